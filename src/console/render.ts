import { escapeHtml } from '../notify/digest';
import type { AttentionEntry } from '../deliver/attentionIndex';
import type { Attention, PoisonedLead } from './attention';
import type { Health, MailFailure } from './health';
import { queryParams, type LeadQuery } from './leadQuery';
import type { DestinationState, LeadDetail, LeadSummary } from './leadView';
import type { LeadPage } from './consoleData';
import { overallState } from './overallState';
import { timeHtml } from './timeHtml';

/** The console's own path, under the Functions route prefix. */
export const consolePath = '/api/console';

const h = escapeHtml;

const stateWords: Record<string, string> = {
    delivered: 'delivered',
    submitted: 'submitted',
    skipped: 'skipped',
    failed: 'failed',
    pending: 'pending',
    uncertain: 'uncertain',
};

const when = timeHtml;

/** A console page: the shared head, header and skip link around its main content. */
export function renderPage(title: string, main: string): string {
    return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${h(title)} · Marketplace leads</title>
<link rel="stylesheet" href="${consolePath}/assets/console.css">
<script src="${consolePath}/assets/console.js" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to the content</a>
<header><a href="${consolePath}" class="brand">Marketplace leads</a> <a href="${consolePath}/view/overview" class="overview-link">Overview</a></header>
<main id="main">
${main}
</main>
</body>
</html>
`;
}

function marks(lead: LeadSummary): string {
    const list = [lead.isTest ? '<span class="mark test">TEST</span>' : '', lead.doNotContact ? '<span class="mark dnc">DO NOT CONTACT</span>' : '', lead.updated ? '<span class="mark upd">updated</span>' : ''].filter(
        Boolean,
    );
    return list.join(' ');
}

function stateBadge(d: DestinationState): string {
    const title = d.lastError ? ` title="${h(d.lastError)}"` : '';
    return `<span class="state ${h(d.state)}"${title}>${h(d.destination)}: ${h(stateWords[d.state] ?? d.state)}</span>`;
}

function failingSince(failure: MailFailure): string {
    return `failing since ${when(failure.since)}: ${h(failure.reason)}`;
}

function healthStrip(health: Health): string {
    const failed = Object.entries(health.failing);
    const failedText = failed.length === 0 ? 'none' : failed.map(([destination, n]) => `${h(destination)} ${n}`).join(', ');
    // Shown only while mail fails: the digests' leads wait, and the alert mail meant to say so cannot go either.
    const mailDown = [health.digestsFailing ? `Digests ${failingSince(health.digestsFailing)}` : '', health.alertsFailing ? `Alert mail ${failingSince(health.alertsFailing)}` : ''].filter(Boolean);
    const items: [string, string, string][] = [
        ['last-lead', 'Last lead received', when(health.lastLeadAt)],
        ['today', 'Leads today', String(health.leadsToday)],
        ['week', 'Leads in 7 days', String(health.leadsThisWeek)],
        ['failed', 'Deliveries failing now', failedText],
        ['poison', 'In poison queues', String(health.poisonCount)],
        ['digest', 'Last digest sent', when(health.lastDigestAt)],
        ...(mailDown.length > 0 ? [['mail-down', 'Mail is down', `<span class="bad">${mailDown.join('<br>')}</span>`] as [string, string, string]] : []),
    ];
    return `<section aria-labelledby="health-title" class="health"><h2 id="health-title" class="visually-hidden">Health</h2><dl>${items
        .map(([id, label, value]) => `<div class="tile" data-health="${id}"><dt>${label}</dt><dd>${value}</dd></div>`)
        .join('')}</dl></section>`;
}

/** Per destination: its last check and what it said (the Web-to-Lead cap among it), and its failed deliveries in 24 hours. */
function destinationsSection(health: Health): string {
    const names = [...new Set([...health.checks.map((c) => c.target), ...Object.keys(health.failing)])].sort();
    if (names.length === 0) return '';
    const rows = names
        .map((name) => {
            const check = health.checks.find((c) => c.target === name);
            const result = check ? `<span class="state ${check.status === 'ok' ? 'delivered' : check.status === 'warning' ? 'uncertain' : 'failed'}">${h(check.status)}</span>` : '<span class="none">not checked</span>';
            const since = check?.failingSince ? ` since ${when(check.failingSince)}` : '';
            return `<tr data-destination="${h(name)}"><th scope="row" class="primary">${h(name)}</th><td class="status">${result}${since}</td><td class="reason">${h(check?.summary ?? '')}</td><td data-label="Checked">${when(check?.checkedAt)}</td><td data-label="Last passed">${when(check?.lastOkAt)}</td><td data-label="Last delivery">${check ? when(check.lastDeliveredAt) : '<span class="none">after a check</span>'}</td><td data-label="Failing now">${health.failing[name] ?? 0}</td></tr>`;
        })
        .join('');
    return `<section aria-labelledby="destinations-title" class="destinations"><h2 id="destinations-title">Destinations</h2><div class="scroll"><table class="cards"><thead><tr><th scope="col">Destination</th><th scope="col">Last check</th><th scope="col">What it found</th><th scope="col">Checked</th><th scope="col">Last passed</th><th scope="col">Last delivery</th><th scope="col">Deliveries failing now</th></tr></thead><tbody>${rows}</tbody></table></div><p class="note">Run <code>npm run leads -- check</code> to check again.</p></section>`;
}

/** The replay of one lead's poisoned deliveries; an uncertain one asks the person to say they checked the destination. `back` returns to the lead's page. */
function replayForm(lead: { leadId?: string; uncertain: boolean }, back?: 'lead'): string {
    if (!lead.leadId) return '';
    const uncertain = lead.uncertain ? '<input type="hidden" name="uncertain" value="true">' : '';
    const backField = back ? `<input type="hidden" name="back" value="${back}">` : '';
    const label = lead.uncertain ? 'Replay (I checked the destination)' : 'Replay';
    return `<form method="post" action="${consolePath}/replay" class="replay"><input type="hidden" name="leadId" value="${h(lead.leadId)}">${uncertain}${backField}<button type="submit" aria-label="${h(label)} lead ${h(lead.leadId)}">${h(label)}</button></form>`;
}

/** A lead in a poison queue: who (company, linked to the lead), where it failed, the offer, when it came and when it was set aside, why, and its Replay. */
function poisonRow(p: PoisonedLead): string {
    const lead = p.leadId ? `<a href="${consolePath}/view/${h(p.leadId)}" title="Lead ${h(p.leadId)}">${h(p.company || '(no company)')}</a>` : '(not a lead)';
    const poisoned = p.at ? `<br><span class="note">set aside ${when(p.at)}</span>` : '';
    const uncertain = p.uncertain ? ' <strong>The destination may have it: check before replaying.</strong>' : '';
    return `<tr data-lead="${h(p.leadId ?? '')}"><td class="primary">${lead}</td><td data-label="Destination">${h(p.destination ?? '(routing)')}</td><td data-label="Offer">${h(p.offer ?? '')}</td><td class="when">${p.receivedAt ? when(p.receivedAt) : ''}${poisoned}</td><td class="reason">${h(p.reason)}${uncertain}</td><td class="action">${replayForm(p)}</td></tr>`;
}

const attentionWords: Record<AttentionEntry['state'], string> = {
    retrying: 'failed, to be tried again',
    waiting: 'waiting: circuit open',
    poisoned: 'gave up',
    uncertain: 'uncertain',
    replayed: 'sent back, waiting its turn',
};

/** Deliveries failing now and leads waiting behind an open circuit, each with when it is tried next. */
function failingPart(failing: readonly AttentionEntry[]): string {
    if (failing.length === 0) return '<p class="ok">No delivery is failing or waiting.</p>';
    const rows = failing
        .map(
            (e) =>
                `<tr data-lead="${h(e.leadId)}" data-attention="${h(e.state)}"><td class="primary"><a href="${consolePath}/view/${h(e.leadId)}" title="Lead ${h(e.leadId)}">${h(e.company || '(no company)')}</a></td><td data-label="Offer">${h(e.offer)}</td><td class="when">${when(e.receivedAt)}</td><td data-label="Destination">${h(e.destination)}</td><td class="status">${h(attentionWords[e.state])}</td><td data-label="Next try">${e.nextTryAt ? when(e.nextTryAt) : ''}</td><td class="reason">${h(e.reason)}</td></tr>`,
        )
        .join('');
    return `<div class="scroll"><table class="cards"><caption>Failing or waiting deliveries</caption><thead><tr><th scope="col">Company</th><th scope="col">Offer</th><th scope="col">Received</th><th scope="col">Destination</th><th scope="col">State</th><th scope="col">Next try</th><th scope="col">Reason</th></tr></thead><tbody>${rows}</tbody></table></div>`;
}

function attentionSection({ poisoned, poisonCount, setAside, failing }: Attention): string {
    const rows = poisoned.map(poisonRow).join('');
    const more = poisonCount > poisoned.length ? `<p>Showing ${poisoned.length} of ${poisonCount} messages; replaying shows the rest.</p>` : '';
    const poisonPart =
        poisoned.length === 0
            ? '<p class="ok">No lead is waiting in a poison queue.</p>'
            : `<div class="scroll"><table class="cards"><caption>Leads in the poison queues</caption><thead><tr><th scope="col">Company</th><th scope="col">Destination</th><th scope="col">Offer</th><th scope="col">Received</th><th scope="col">Reason</th><th scope="col"><span class="visually-hidden">Action</span></th></tr></thead><tbody>${rows}</tbody></table></div>${more}
<form method="post" action="${consolePath}/replay"><input type="hidden" name="all" value="true"><button type="submit">Replay all</button></form>`;
    const asideRows = setAside
        .map(
            (entry) =>
                `<tr><td class="when">${when(entry.at)}</td><td data-label="What">${h(entry.kind)}</td><td class="primary">${entry.kind === 'lead' ? `<a href="${consolePath}/view/${h(entry.subject)}">${h(entry.subject)}</a>` : h(entry.subject)}</td><td class="reason">${h(entry.reason)}</td></tr>`,
        )
        .join('');
    const asidePart =
        setAside.length === 0
            ? '<p class="ok">No digest or recipient was set aside.</p>'
            : `<div class="scroll"><table class="cards"><caption>Set aside by the mail server</caption><thead><tr><th scope="col">When</th><th scope="col">What</th><th scope="col">Lead or recipient</th><th scope="col">Reason</th></tr></thead><tbody>${asideRows}</tbody></table></div>`;
    return `<section aria-labelledby="attention-title" class="attention"><h2 id="attention-title">Needs attention</h2>${poisonPart}${failingPart(failing)}${asidePart}</section>`;
}

function field(name: string, label: string, value: string | undefined, type = 'text'): string {
    return `<label>${h(label)} <input type="${type}" name="${name}" value="${h(value ?? '')}"></label>`;
}

function hideTestField(query: LeadQuery): string {
    return `<label class="check"><input type="checkbox" name="hideTest" value="true"${query.hideTest ? ' checked' : ''}> Hide test leads</label>`;
}

function filterForm(query: LeadQuery): string {
    const stateOptions = ['', 'delivered', 'submitted', 'skipped', 'failed', 'pending', 'uncertain', 'waiting', 'poisoned']
        .map((state) => `<option value="${state}"${query.state === state || (!query.state && !state) ? ' selected' : ''}>${state || 'any state'}</option>`)
        .join('');
    return `<form class="filters" method="get" action="${consolePath}" role="search">
<label class="search">Search <input type="search" name="q" value="${h(query.q ?? '')}" placeholder="company, e-mail, offer or lead id"></label>
${field('offer', 'Offer', query.offer)}
${field('action', 'Action', query.action)}
<label>State <select name="state">${stateOptions}</select></label>
${field('from', 'From', query.from || query.fromDay, 'date')}
${field('to', 'To', query.to || query.toDay, 'date')}
${hideTestField(query)}
<button type="submit">Filter</button>
</form>`;
}

/** The lead's one state at a glance; each destination's in the title, and on the lead's page. */
function overallBadge(lead: LeadSummary): string {
    const state = overallState(lead.destinations);
    return `<span class="state ${state.kind}" title="${h(state.detail)}">${h(state.label)}</span>`;
}

function leadRows(items: readonly LeadSummary[]): string {
    return items
        .map(
            (lead) =>
                `<tr data-lead="${h(lead.id)}"><td class="when">${when(lead.receivedAt)}</td><td class="primary"><a href="${consolePath}/view/${h(lead.id)}">${h(lead.company || '(no company)')}</a> ${marks(lead)}</td><td class="offer">${h(lead.offer)}</td><td class="origin">${h(lead.origin)}</td><td class="status">${overallBadge(lead)}</td></tr>`,
        )
        .join('');
}

function importForm(): string {
    return `<section aria-labelledby="import-title"><h2 id="import-title">Import leads from CSV</h2>
<p>This app's own export, or Partner Center's (Referrals → Marketplace leads → Export). Leads the app already has are not delivered again.</p>
<form id="import" method="post" action="${consolePath}/import" enctype="multipart/form-data">
<label>CSV file <input type="file" name="file" accept=".csv,text/csv" required></label>
<label><input type="checkbox" name="dryRun" value="true"> Dry run: only say what would happen</label>
<button type="submit">Import</button>
</form>
<div id="import-result" role="status" aria-live="polite"></div></section>`;
}

export interface ListPageModel {
    query: LeadQuery;
    page: LeadPage;
    health: Health;
    attention: Attention;
    notice?: string;
    /** The person may take the export with contact details (see fullExportTaker). */
    fullExport?: boolean;
    /** How many leads the query's days hold (test leads left out when it hides them). */
    rangeCount?: number;
}

/** "2025-12-04 to 2026-12-03 hold 1234 leads." */
function rangeCountLine(query: LeadQuery, count: number | undefined): string {
    if (count === undefined) return '';
    const hidden = query.hideTest ? ', test leads left out' : '';
    return `<p class="range-count" data-count="${count}">${h(query.fromDay)} to ${h(query.toDay)} (UTC days) hold ${count} lead${count === 1 ? '' : 's'}${hidden}.</p>`;
}

/** Where a search that stopped at its bound got to, and a link to go on: never "no match" for a range not examined. */
function searchExtent(query: LeadQuery, result: LeadPage): string {
    if (!result.lookedBackTo || !result.next) return '';
    const found = result.items.length === 0 ? 'none matched yet' : `${result.items.length} matched so far`;
    return `<p class="note" data-search="partial">Looked through ${result.scanned} leads back to ${when(result.lookedBackTo)}; ${found}. <a href="${consolePath}?${queryParams(query, { before: result.next }).toString()}">Look further back</a></p>`;
}

export function renderListPage(model: ListPageModel): string {
    const { query, page: result } = model;
    const params = queryParams(query);
    const exportHref = (file: string) => `${consolePath}/${file}${params.size ? `?${params.toString()}` : ''}`;
    const fullExport = model.fullExport ? ` <a href="${exportHref('export-full.csv')}" download>Export CSV with contact details</a>` : '';
    const next = result.next ? `<a class="next" href="${consolePath}?${queryParams(query, { before: result.next }).toString()}">Older leads →</a>` : '';
    const list =
        result.items.length === 0 && !result.lookedBackTo
            ? '<p>No lead matches these filters.</p>'
            : result.items.length === 0
              ? ''
              : `<div class="scroll"><table class="leads cards"><caption>Leads, newest first</caption><thead><tr><th scope="col">Received</th><th scope="col">Company</th><th scope="col">Offer</th><th scope="col">Source and action</th><th scope="col">State</th></tr></thead><tbody>${leadRows(result.items)}</tbody></table></div>`;
    return renderPage(
        'Leads',
        `<h1>Leads</h1>${noticeHtml(model.notice)}
${healthStrip(model.health)}
${destinationsSection(model.health)}
${attentionSection(model.attention)}
<section aria-labelledby="list-title"><h2 id="list-title">All leads</h2>
${filterForm(query)}
<p class="actions"><a href="${exportHref('export.csv')}" download>Export CSV</a>${fullExport}</p>
${rangeCountLine(query, model.rangeCount)}${list}${searchExtent(query, result)}<nav aria-label="Pages" class="pages">${query.before ? `<a href="${consolePath}?${queryParams(query).toString()}">← Newest</a>` : ''} ${next}</nav>
</section>
${importForm()}`,
    );
}

/**
 * A notice after an action, shown once: console.js takes the parameters that asked for it out of
 * the address, so that a reload or a bookmark does not show it again.
 */
function noticeHtml(notice: string | undefined): string {
    return notice ? `<p class="notice" role="status" data-clears="replayed left">${h(notice)}</p>` : '';
}

/** On a lead's page: its state, and a Replay for the deliveries of it that wait in a poison queue. */
function leadStateAndReplay(lead: LeadDetail): string {
    const poisoned = lead.destinations.filter((d) => d.poisoned);
    const replay = poisoned.length
        ? `<p>${h(poisoned.map((d) => d.destination).join(', '))}: in the poison queue.</p>${replayForm({ leadId: lead.id, uncertain: poisoned.some((d) => d.state === 'uncertain') }, 'lead')}`
        : '';
    return `<div class="lead-state"><p>State: ${overallBadge(lead)}</p>${replay}</div>`;
}

const isoInstant = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

export function renderDetailPage(lead: LeadDetail, notice?: string): string {
    const fields = lead.fields.map(([label, value]) => `<tr><th scope="row">${h(label)}</th><td>${isoInstant.test(value) ? when(value) : h(value)}</td></tr>`).join('');
    const versions = lead.versions.map((v) => `<li>${when(v.at)} — version ${h(v.version || '(none)')}${v.changed.length ? `; changed: ${h(v.changed.join(', '))}` : ''}</li>`).join('');
    const destinations = lead.destinations
        .map(
            (d) =>
                `<tr data-destination="${h(d.destination)}"><th scope="row" class="primary">${h(d.destination)}</th><td class="status">${stateBadge(d)}${d.poisoned ? ' <strong>in the poison queue</strong>' : ''}${d.attention ? ` ${h(attentionWords[d.attention])}` : ''}${d.nextTryAt ? `, next try ${when(d.nextTryAt)}` : ''}</td><td data-label="Attempts">${h(String(d.attempts ?? ''))}</td><td class="reason">${h(d.lastError ? `${d.failureKind ? `${d.failureKind}: ` : ''}${d.lastError}` : '')}</td><td class="target">${h(d.target ?? '')}</td><td data-label="Updated">${when(d.updatedAt)}</td><td${d.completedAt ? ' data-label="Completed"' : ''}>${d.completedAt ? when(d.completedAt) : ''}</td></tr>`,
        )
        .join('');
    return renderPage(
        `Lead ${lead.id}`,
        `<p><a href="${consolePath}">← All leads</a></p>
<h1>${h(lead.company || '(no company)')} ${marks(lead)}</h1>${noticeHtml(notice)}
${leadStateAndReplay(lead)}
<section aria-labelledby="fields-title"><h2 id="fields-title">Fields</h2><table class="fields">${fields}</table></section>
<section aria-labelledby="versions-title"><h2 id="versions-title">Versions</h2><p>Received ${h(String(lead.occurrences))} time(s).</p><ol>${versions}</ol></section>
<section aria-labelledby="dest-title"><h2 id="dest-title">Destinations</h2><div class="scroll"><table class="cards"><thead><tr><th scope="col">Destination</th><th scope="col">State</th><th scope="col">Attempts</th><th scope="col">Last error</th><th scope="col">Target</th><th scope="col">Updated</th><th scope="col">Completed</th></tr></thead><tbody>${destinations}</tbody></table></div></section>`,
    );
}

export function renderMessagePage(title: string, message: string): string {
    return renderPage(title, `<h1>${h(title)}</h1><p>${h(message)}</p><p><a href="${consolePath}">← All leads</a></p>`);
}
