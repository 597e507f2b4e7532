import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { composeDigest, digestSubject, oneLine, type DigestLead } from '../../src/notify/digest';

function lead(changes: Partial<DigestLead> = {}): DigestLead {
    return {
        time: '2026-11-22T10:00:00.000Z',
        leadId: 'a'.repeat(32),
        origin: 'Azure Marketplace',
        offer: 'Contoso Analytics',
        company: 'Contoso',
        title: '',
        country: '',
        firstName: 'Ada',
        lastName: 'L',
        email: 'ada@contoso.example',
        phone: '',
        description: '',
        isTest: false,
        doNotContact: false,
        ...changes,
    };
}

describe('the digest', () => {
    it('keeps bidirectional overrides and zero-width characters out of the Subject', () => {
        const offer = 'Contoso\u202eSSAP\u202c \u200bAnalytics\u2066x\u2069\ufeff\u061c\u200f';
        const subject = digestSubject([lead({ offer })]);
        assert.equal(subject, '1 new marketplace lead — ContosoSSAP Analyticsx (1)');
        assert.doesNotMatch(subject, /[\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/);
        assert.equal(oneLine('a\u00adb\u2060c'), 'abc');
    });

    it('marks a lead that came back with new content, says what changed, and says so in the subject', () => {
        const digest = composeDigest([lead(), lead({ leadId: 'b'.repeat(32), update: { changed: ['Title', 'Phone'], firstSeen: '2026-11-20T09:00:00.000Z' } })], 'masked');
        assert.match(digest.subject, /^2 new or updated marketplace leads — /);
        assert.match(digest.text, /2\. \[UPDATED\]\n/);
        assert.match(digest.text, /Changed: Title, Phone\n\s+First seen: 2026-11-20T09:00:00\.000Z/);
        assert.match(digest.html, /UPDATED/);
        assert.match(composeDigest([lead({ update: { changed: [], firstSeen: '' } })], 'none').subject, /^1 updated marketplace lead/);
    });
});
