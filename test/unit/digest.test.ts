import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { composeDigest, digestSubject, oneLine, type DigestLead } from '../../src/notify/digest';
import { refusesSending } from '../../src/notify/transports/transport';

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

describe('refusesSending', () => {
    it('takes sender, account, tenant, system and protocol codes for the sending, and content, spam policy and size codes for the message', () => {
        const sending = [
            '554 5.2.252 SendAsDenied; leads@contoso.example not allowed to send as leads@contoso.example',
            '530 5.7.57 Client not authenticated to send mail',
            '550 5.7.60 SMTP; Client does not have permissions to send as this sender',
            '550 5.7.708 Service unavailable. Access denied, traffic not accepted from this IP',
            '550 5.7.750 Service unavailable. Client blocked from sending from unregistered domains',
            '550 5.7.0 Authentication required',
            '535 5.7.8 Authentication credentials invalid',
            '553 5.1.7 The sender address is invalid',
            '550 5.1.8 Bad sender system address',
            '554 5.3.0 Mail system misconfigured',
            '554 5.5.3 Too many recipients',
            '550 5.7.1 Client does not have permissions to send as this sender',
            '554 Relay access denied',
            '550 Sender address rejected: not owned by user',
        ];
        const message = ['554 5.7.1 Message rejected as spam', '550 5.6.0 Content rejected', '552 5.3.4 Message too big for system', '552 5.2.3 Message length exceeds administrative limit', '554 Transaction failed', ''];
        assert.deepEqual(
            sending.filter((reply) => !refusesSending(reply)),
            [],
        );
        assert.deepEqual(
            message.filter((reply) => refusesSending(reply)),
            [],
        );
    });
});
