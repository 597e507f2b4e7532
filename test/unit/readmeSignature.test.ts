import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runInNewContext } from 'node:vm';
import { webhookSignature } from '../../src/deliver/destinations/webhook';
import { projectRoot } from '../helpers/samples';

type Verify = (secret: string, timestamp: unknown, signature: unknown, rawBody: string) => boolean;

/** The documented verification snippet (docs/DESTINATIONS.md), run as a reader would paste it: the test and the doc cannot drift. */
function readmeVerifier(): Verify {
    const readme = readFileSync(join(projectRoot, 'docs', 'DESTINATIONS.md'), 'utf8');
    const blocks = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
    const snippet = blocks.filter((block) => block.includes('timingSafeEqual'));
    assert.equal(snippet.length, 1, 'docs/DESTINATIONS.md has one js block with timingSafeEqual');
    const verify: unknown = runInNewContext(`${snippet[0]}\nverifyLeadSignature;`, { require, Buffer });
    assert.equal(typeof verify, 'function', 'the documented snippet defines verifyLeadSignature');
    return verify as Verify;
}

describe('the documented webhook signature check', () => {
    const verify = readmeVerifier();
    const secret = 'test-secret';
    const body = JSON.stringify({ id: 'abc', customer: { firstName: 'Ada' } });
    const now = String(Math.floor(Date.now() / 1000));
    const valid = webhookSignature(secret, now, body);

    it('accepts the signature the app sends', () => {
        assert.equal(verify(secret, now, valid, body), true);
    });

    it('refuses a wrong signature, another body or another secret', () => {
        const flipped = `${valid.slice(0, -1)}${valid.endsWith('0') ? '1' : '0'}`;
        assert.equal(verify(secret, now, flipped, body), false);
        assert.equal(verify(secret, now, valid, `${body} `), false);
        assert.equal(verify('other-secret', now, valid, body), false);
    });

    it('returns false, without throwing, for a missing, short, long or repeated header', () => {
        for (const signature of [undefined, '', 'sha256=abc', `${valid}00`, [valid, valid], 'sha256=' + 'é'.repeat(32)]) {
            assert.equal(verify(secret, now, signature, body), false, String(signature));
        }
        assert.equal(verify(secret, undefined, valid, body), false);
    });

    it('refuses a timestamp older than five minutes, even when correctly signed', () => {
        const old = String(Math.floor(Date.now() / 1000) - 600);
        assert.equal(verify(secret, old, webhookSignature(secret, old, body), body), false);
        assert.equal(verify(secret, 'soon', webhookSignature(secret, 'soon', body), body), false);
    });
});
