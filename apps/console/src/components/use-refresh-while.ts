'use client';

import { useEffect } from 'react';
import { useRouter } from 'next/navigation';

/**
 * Reloads the page's server components (`router.refresh()`) every `everyMs` while `active` —
 * while an import, backup or restore runs — and stops once it is not.
 */
export function useRefreshWhile(active: boolean, everyMs: number): void {
  const router = useRouter();
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => router.refresh(), everyMs);
    return () => clearInterval(timer);
  }, [active, everyMs, router]);
}
