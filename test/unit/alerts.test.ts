import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { alertDue } from '../../src/alert/alertDue';
import { checkFailedEvent, failingEvent, mailDownEvent, poisonedEvent, poisonedMessageEvent, quietEvent, setAsideEvent } from '../../src/alert/alertEvent';
import { composeAlert } from '../../src/alert/composeAlert';
import { consoleUrl } from '../../src/alert/consoleUrl';
import { failingAlertFor } from '../../src/alert/failingAlert';

const lead = { id: 'a'.repeat(32), offer: 'contoso.analytics' };
const now = new Date('2026-11-22T12:00:00.000Z');
const context = { consoleUrl: 'https://leads.contoso.example/api/console', more: 0, failingMinutes: 15, quietHours: 6 };

describe('consoleUrl', () => {
    it('is CONSOLE_URL when set, else the Azure host name, else the local host and its port', () => {
        assert.equal(consoleUrl({ CONSOLE_URL: 'https://console.contoso.example/' }, { WEBSITE_HOSTNAME: 'func-x.azurewebsites.net' }), 'https://console.contoso.example/');
        assert.equal(consoleUrl({ CONSOLE_URL: undefined }, { WEBSITE_HOSTNAME: 'func-x.azurewebsites.net' }), 'https://func-x.azurewebsites.net/api/console');
        assert.equal(consoleUrl({ CONSOLE_URL: undefined }, { WEBSITE_HOSTNAME: ' ', PORT: '7200' }), 'http://localhost:7200/api/console');
        assert.equal(consoleUrl({ CONSOLE_URL: undefined }, {}), 'http://localhost:7071/api/console');
    });
});

describe('alert events', () => {
    it('key what happened, not when it was written: the same poison, failing chain, set-aside or quiet spell is one event', () => {
        const later = new Date(now.getTime() + 60_000);
        assert.equal(poisonedEvent(lead, 'webhook', 3, 'x', now).key, poisonedEvent(lead, 'webhook', 3, 'y', later).key);
        assert.notEqual(poisonedEvent(lead, 'webhook', 3, 'x').key, poisonedEvent(lead, 'webhook', 4, 'x').key, 'a replayed lead poisoned again is another event');
        assert.notEqual(poisonedEvent(lead, 'webhook', 3, 'x').key, poisonedEvent(lead, 'hubspot', 3, 'x').key);
        assert.equal(failingEvent(lead, 'webhook', now.toISOString(), 'x', now).key, failingEvent(lead, 'webhook', now.toISOString(), 'x', later).key);
        const refused = { kind: 'recipient' as const, subject: 'ops/#?@contoso.example', reason: 'The mail server refused this recipient (550 5.1.1) for digest d1, 4 time(s).' };
        assert.equal(setAsideEvent(refused, now).key, setAsideEvent(refused, later).key);
        assert.doesNotMatch(setAsideEvent(refused).key, /[/\\#?]/, 'a valid table key');
        assert.notEqual(setAsideEvent(refused).key, setAsideEvent({ ...refused, reason: 'for digest d2' }).key);
        assert.equal(quietEvent({ newestRowKey: '2026-11-22T06:00:00.000Z_abc' }, 6, now).key, quietEvent({ newestRowKey: '2026-11-22T06:00:00.000Z_abc' }, 6, later).key);
        const since = now.toISOString();
        assert.equal(mailDownEvent(since, '554 5.2.252', now).key, mailDownEvent(since, '451', later).key, 'one event an outage, whatever each failed run said');
        assert.notEqual(mailDownEvent(since, 'x').key, mailDownEvent(later.toISOString(), 'x').key);
        const cause = 'HubSpot answered 401 with category "INVALID_AUTHENTICATION": check HUBSPOT_TOKEN.';
        assert.equal(checkFailedEvent('hubspot', since, cause, now).key, checkFailedEvent('hubspot', since, cause, later).key, 'the daily check of the same cause is one event');
        assert.notEqual(checkFailedEvent('hubspot', since, cause).key, checkFailedEvent('hubspot', since, 'HubSpot has no contact property "x".').key, 'another cause');
        assert.notEqual(checkFailedEvent('hubspot', since, cause).key, checkFailedEvent('hubspot', later.toISOString(), cause).key, 'the same cause after a recovery');
        assert.doesNotMatch(checkFailedEvent('hubspot', since, cause).key, /[/\\#?]/, 'a valid table key');
    });

    it('take only a well-formed lead id and destination from a message that is not a lead, and key it by its content', () => {
        const message = { id: 'b'.repeat(32), delivery: { destination: 'hubspot' }, customer: { email: 'jane@contoso.com' } };
        const event = poisonedMessageEvent(message, 'The message is not a lead: receivedAt: Invalid input.');
        assert.equal(event.leadId, 'b'.repeat(32));
        assert.equal(event.destination, 'hubspot');
        assert.doesNotMatch(JSON.stringify(event), /jane/);
        assert.equal(event.key, poisonedMessageEvent({ ...message }, 'again').key);
        const odd = poisonedMessageEvent({ id: 'Jane Doe', delivery: { destination: 'jane@contoso.com' } }, 'x');
        assert.equal(odd.leadId, undefined);
        assert.equal(odd.destination, undefined);
        assert.match(poisonedMessageEvent('not json at all', 'x').key, /^message_[0-9a-f]{32}$/);
    });

    it('keep reasons on one line and short', () => {
        const event = poisonedEvent(lead, 'webhook', 1, `The webhook answered 400.\r\nBcc: x@example.com ${'y'.repeat(2000)}`);
        assert.doesNotMatch(event.reason, /[\r\n]/);
        assert.ok(event.reason.length <= 500);
    });
});

describe('failingAlertFor', () => {
    const failing = (minutesAgo: number, alerted = false) => ({ since: new Date(now.getTime() - minutesAgo * 60_000).toISOString(), alerted });

    it('is due once the chain has failed for ALERT_FAILING_MINUTES, from its first failure, and only once', () => {
        assert.equal(failingAlertFor(failing(14), lead, 'webhook', 'The webhook answered 503.', 15, now), undefined);
        const due = failingAlertFor(failing(15), lead, 'webhook', 'The webhook answered 503.', 15, now);
        assert.ok(due);
        assert.equal(due.kind, 'failing');
        assert.equal(due.key, `${lead.id}_webhook_${failing(15).since}`);
        assert.match(due.reason, /Failing since .*503/);
        assert.equal(failingAlertFor(failing(60, true), lead, 'webhook', 'x', 15, now), undefined, 'already alerted');
    });

    it('with ALERT_FAILING_MINUTES=0, is due at the first failure', () => {
        assert.ok(failingAlertFor(failing(0), lead, 'webhook', 'x', 0, now));
    });
});

describe('alertDue', () => {
    const at = (minutesAgo: number) => new Date(now.getTime() - minutesAgo * 60_000).toISOString();

    it('allows one mail per kind per interval, and always the mail written down but not known to be sent', () => {
        assert.equal(alertDue({ pending: false, unsent: 0 }, 30, now), false, 'nothing to say');
        assert.equal(alertDue({ pending: false, unsent: 2 }, 30, now), true, 'never sent before');
        assert.equal(alertDue({ lastSentAt: at(29), pending: false, unsent: 2 }, 30, now), false);
        assert.equal(alertDue({ lastSentAt: at(30), pending: false, unsent: 2 }, 30, now), true);
        assert.equal(alertDue({ lastSentAt: at(1), pending: true, unsent: 0 }, 30, now), true);
    });
});

describe('composeAlert', () => {
    it('lists every event with lead id, offer, destination and reason, escapes them in HTML, and links the console', () => {
        const events = [poisonedEvent(lead, 'webhook', 1, 'The webhook answered 400 <b>.', now), poisonedEvent({ id: 'c'.repeat(32), offer: 'Fabrikam <CRM>' }, 'hubspot', 2, 'The HubSpot API answered 401.', now)];
        const mail = composeAlert('poisoned', events, { ...context, more: 3 });
        assert.equal(mail.subject, 'Marketplace leads alert: 2 leads were moved to the poison queue');
        assert.match(mail.text, new RegExp(`Lead id: ${lead.id}\\n   Offer: contoso\\.analytics\\n   Destination: webhook\\n   Reason: The webhook answered 400 <b>\\.`));
        assert.match(mail.text, /3 more are waiting and follow in the next alert mail\./);
        assert.match(mail.text, /Console: https:\/\/leads\.contoso\.example\/api\/console\n$/);
        assert.doesNotMatch(mail.html, /<b>|<CRM>/);
        assert.match(mail.html, /Fabrikam &#60;CRM&#62;/);
        assert.match(mail.html, /<a href="https:\/\/leads\.contoso\.example\/api\/console">/);
    });

    it('names the threshold of failing deliveries and the quiet hours', () => {
        assert.match(composeAlert('failing', [failingEvent(lead, 'webhook', now.toISOString(), 'x', now)], context).subject, /1 delivery has been failing for 15 minute\(s\) or more/);
        assert.match(composeAlert('quiet', [quietEvent({ watchingSince: now.toISOString() }, 6, now)], context).subject, /No lead has arrived for 6 hour\(s\)/);
        assert.match(composeAlert('set-aside', [setAsideEvent({ kind: 'lead', subject: lead.id, reason: 'refused' }, now)], context).text, /npm run leads -- set-aside/);
        const down = composeAlert('mail-down', [mailDownEvent(now.toISOString(), 'The SMTP server refused the message for its sender, account or server (554 5.2.252).', now)], context);
        assert.equal(down.subject, 'Marketplace leads alert: Digests could not be sent');
        assert.match(down.text, /Reason: Digests have failed since 2026-11-22T12:00:00\.000Z: .*554 5\.2\.252/);
        assert.match(down.text, /No lead was set aside/);
    });
});
