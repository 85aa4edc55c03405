import Link from 'next/link';

export default function NotFound() {
  return (
    <div className="login">
      <div className="panel">
        <h2>Page not found</h2>
        <Link href="/indexes">Back to indexes</Link>
      </div>
    </div>
  );
}
