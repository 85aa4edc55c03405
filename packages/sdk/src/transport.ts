import { createTRPCClient, httpLink, type TRPCClient } from '@trpc/client';
import type { AppRouter } from '@conifer/api';
import { ForeignResponseError, toConiferError } from './errors.ts';

export interface ConiferOptions {
  /** Base URL of the server, e.g. `http://127.0.0.1:5080`. */
  url: string;
  /** API key; sent in the `Api-Key` header. */
  apiKey: string;
  /** `fetch` to use (default: the global one). */
  fetch?: typeof fetch;
  /** Extra headers sent with every request. */
  headers?: Record<string, string>;
}

/** The typed tRPC client plus error translation; shared by `Conifer` and its `Index` handles. */
export interface Transport {
  readonly url: string;
  /** Runs one call, rethrowing any failure as the matching Conifer error class. */
  call<T>(fn: (api: TRPCClient<AppRouter>) => Promise<T>): Promise<T>;
}

export function createTransport(options: ConiferOptions): Transport {
  const url = options.url.replace(/\/+$/, '');
  const baseFetch = options.fetch ?? fetch;
  // Every Conifer answer is JSON; anything else (a proxy's HTML error page) is reported by status.
  const checkedFetch: typeof fetch = async (input, init) => {
    const response = await baseFetch(input, init);
    if (!/\bjson\b/i.test(response.headers.get('content-type') ?? '')) {
      await response.body?.cancel();
      throw new ForeignResponseError(response.status);
    }
    return response;
  };
  const api = createTRPCClient<AppRouter>({
    links: [
      httpLink({
        url: `${url}/trpc`,
        // Queries go as POST too: a query vector does not fit in a URL.
        methodOverride: 'POST',
        headers: () => ({ ...options.headers, 'api-key': options.apiKey }),
        fetch: checkedFetch,
      }),
    ],
  });
  return {
    url,
    async call(fn) {
      try {
        return await fn(api);
      } catch (error) {
        throw toConiferError(error, url);
      }
    },
  };
}
