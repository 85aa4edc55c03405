import { readFile } from 'node:fs/promises';
import type { RouterInputs as ServerInputs, RouterOutputs as ServerOutputs } from '@conifer/api';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { CONTRACT_PATH, formattedContract } from '../scripts/contract-generator.ts';
import type { RouterInputs, RouterOutputs } from './types.ts';

/** Each type assignable to the other (what any use of one accepts, the other does too). */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/** `router.procedure` names whose types differ between two routers' inputs (or outputs), or that one lacks. */
type Differing<S, M> = {
  [R in keyof S & string]: {
    [P in keyof S[R] & string]: R extends keyof M
      ? P extends keyof M[R]
        ? Same<S[R][P], M[R][P]> extends true
          ? never
          : `${R}.${P}`
        : `${R}.${P}`
      : `${R}.${P}`;
  }[keyof S[R] & string];
}[keyof S & string];

describe('the generated contract', () => {
  it('is what the server router generates now (run `npm run generate -w @conifer/sdk` when this fails)', async () => {
    const checkedIn = await readFile(CONTRACT_PATH, 'utf8');
    expect(checkedIn).toBe(await formattedContract());
  }, 60_000);

  it('gives every procedure of the server router the same input and output types', () => {
    // Checked by the type checker (`tsc -b` in `npm test`): the failing procedures are named.
    expectTypeOf<keyof RouterInputs>().toEqualTypeOf<keyof ServerInputs>();
    expectTypeOf<Differing<ServerInputs, RouterInputs>>().toEqualTypeOf<never>();
    expectTypeOf<Differing<ServerOutputs, RouterOutputs>>().toEqualTypeOf<never>();
    expectTypeOf<Differing<RouterInputs, ServerInputs>>().toEqualTypeOf<never>();
    // A check that cannot fail proves nothing: a changed field must show up.
    type Changed = { data: { upsert: { records: { id: number }[] } } };
    expectTypeOf<Differing<Pick<ServerInputs, 'data'>, Changed>>().toEqualTypeOf<
      'data.upsert' | `data.${Exclude<keyof ServerInputs['data'], 'upsert' | symbol>}`
    >();
  });
});
