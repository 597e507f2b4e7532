// The console works without this script; with it, times are in the viewer's time zone, a notice
// shows once, and an import shows its summary on the page.
'use strict';

/** Each time in the viewer's own time zone; its title keeps UTC. */
function localTimes() {
    const format = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
    for (const time of document.querySelectorAll('time[datetime]')) {
        const instant = new Date(time.getAttribute('datetime'));
        if (!Number.isNaN(instant.getTime())) time.textContent = format.format(instant);
    }
}

/** A notice is shown once: the parameters that asked for it leave the address, so a reload does not show it again. */
function noticeOnce() {
    const notice = document.querySelector('.notice[data-clears]');
    if (!notice) return;
    const url = new URL(window.location.href);
    for (const name of notice.getAttribute('data-clears').split(' ')) url.searchParams.delete(name);
    window.history.replaceState(window.history.state, '', url.pathname + url.search + url.hash);
}

function importInPlace() {
    const form = document.getElementById('import');
    const result = document.getElementById('import-result');
    if (!form || !result) return;
    form.addEventListener('submit', async (event) => {
        event.preventDefault();
        const button = form.querySelector('button');
        button.disabled = true;
        result.textContent = 'Importing…';
        try {
            const response = await fetch(form.action, { method: 'POST', body: new FormData(form), headers: { accept: 'application/json' } });
            const summary = await response.json();
            result.replaceChildren();
            const pre = document.createElement('pre');
            pre.textContent = response.ok ? summary.text : `The import failed: ${summary.error}`;
            result.append(pre);
        } catch (error) {
            result.textContent = `The import failed: ${error instanceof Error ? error.message : String(error)}`;
        } finally {
            button.disabled = false;
        }
    });
}

document.addEventListener('DOMContentLoaded', () => {
    localTimes();
    noticeOnce();
    importInPlace();
});
