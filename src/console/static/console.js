// The console works without this script; with it, an import shows its summary on the page.
'use strict';
document.addEventListener('DOMContentLoaded', () => {
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
});
