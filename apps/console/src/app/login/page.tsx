import { SignInForm } from '../../components/sign-in-form.tsx';

export const metadata = { title: 'Sign in · Conifer' };

export default async function LoginPage({ searchParams }: { searchParams: Promise<{ expired?: string }> }) {
  const { expired } = await searchParams;
  return (
    <div className="login">
      <div className="brand">
        Conifer <span>console</span>
      </div>
      <div className="panel">
        <h2>Sign in with an API key</h2>
        {expired ? <div className="alert warn">Your key was rejected by the server (revoked or unknown). Sign in again.</div> : null}
        <SignInForm />
        <p className="hint">The key stays on the console&apos;s server in an httpOnly cookie; admin keys can also manage keys and see usage.</p>
      </div>
    </div>
  );
}
