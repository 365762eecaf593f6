// triggerd web UI: copy buttons, confirmation dialogs and filters that submit on change.
// Every page works without this file; it only saves clicks. No inline script anywhere (CSP).
(function () {
  'use strict';
  var live = function (text) {
    var region = document.getElementById('live');
    if (region) { region.textContent = ''; region.textContent = text; }
  };

  // Copy: navigator.clipboard where the page is a secure context, else a hidden textarea and
  // execCommand (plain-http LAN installs), else select the text and ask for Ctrl+C.
  var legacyCopy = function (text) {
    var area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.className = 'visually-hidden';
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
    document.body.removeChild(area);
    return ok;
  };
  var textOf = function (el) {
    return el.value !== undefined && el.tagName === 'INPUT' ? el.value : el.textContent;
  };
  document.addEventListener('click', function (ev) {
    var button = ev.target.closest && ev.target.closest('button[data-copy]');
    if (!button) { return; }
    var source = document.querySelector(button.getAttribute('data-copy'));
    if (!source) { return; }
    var text = textOf(source);
    var done = function () {
      var label = button.textContent;
      button.textContent = 'Copied';
      live('Copied to the clipboard');
      setTimeout(function () { button.textContent = label; }, 1500);
    };
    var fallback = function () {
      if (legacyCopy(text)) { done(); return; }
      if (source.select) { source.select(); }
      live('Press Ctrl+C to copy');
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, fallback);
    } else {
      fallback();
    }
  });

  // Confirmation: forms with data-confirm post confirm=0 without JS (the server asks on a page of
  // its own); here a <dialog> asks, then the form is sent with confirm=1.
  var dialog = document.getElementById('confirm-dialog');
  var pending = null;
  document.addEventListener('submit', function (ev) {
    var form = ev.target;
    if (!form.hasAttribute || !form.hasAttribute('data-confirm') || !dialog || !dialog.showModal) { return; }
    ev.preventDefault();
    pending = form;
    document.getElementById('confirm-text').textContent = form.getAttribute('data-confirm');
    document.getElementById('confirm-yes').textContent = form.getAttribute('data-confirm-button') || 'Confirm';
    dialog.showModal();
  });
  if (dialog) {
    document.getElementById('confirm-yes').addEventListener('click', function () {
      if (!pending) { return; }
      var confirm = pending.querySelector('input[name="confirm"]');
      if (confirm) { confirm.value = '1'; }
      var form = pending;
      pending = null;
      dialog.close();
      form.submit();
    });
    document.getElementById('confirm-no').addEventListener('click', function () {
      pending = null;
      dialog.close();
    });
  }

  // A running job's page follows its log: every 3 s while the tab is visible, the block
  // #job-live is replaced by the same block of a fresh copy of the page, until the job ends.
  var follow = function () {
    var current = document.querySelector('#job-live[data-follow]');
    if (!current) { return; }
    setTimeout(function () {
      if (document.visibilityState !== 'visible') { follow(); return; }
      fetch(window.location.href, { credentials: 'same-origin' }).then(function (resp) {
        return resp.ok ? resp.text() : null;
      }).then(function (html) {
        if (html === null) { return; }
        var fresh = new DOMParser().parseFromString(html, 'text/html').getElementById('job-live');
        if (!fresh) { return; }
        var log = current.querySelector('pre.log');
        var atEnd = !log || log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
        current.replaceWith(document.importNode(fresh, true));
        var newLog = document.querySelector('#job-live pre.log');
        if (newLog && atEnd) { newLog.scrollTop = newLog.scrollHeight; }
        follow();
      }, follow);
    }, 3000);
  };
  follow();

  // The pipelines list refreshes its table every 5 s while a pipeline in it may still change
  // (#pipelines-live[data-follow]): it fetches the table alone (?fragment=table) and swaps it in.
  // It waits while the tab is hidden, while focus is inside the table or a dialog is open, so
  // nobody loses their place; without JavaScript a reload does the same.
  var refresh = function () {
    if (!document.querySelector('#pipelines-live[data-follow]')) { return; }
    setTimeout(function () {
      var box = document.getElementById('pipelines-live');
      var busy = document.visibilityState !== 'visible' || (dialog && dialog.open) ||
        (box && box.contains(document.activeElement));
      if (!box || busy) { refresh(); return; }
      var url = new URL(window.location.href);
      url.searchParams.set('fragment', 'table');
      url.hash = '';
      fetch(url.toString(), { credentials: 'same-origin' }).then(function (resp) {
        return resp.ok ? resp.text() : null;
      }).then(function (html) {
        if (html === null) { refresh(); return; }
        var fresh = new DOMParser().parseFromString(html, 'text/html').getElementById('pipelines-live');
        var current = document.getElementById('pipelines-live');
        if (!fresh || !current) { return; }
        current.replaceWith(document.importNode(fresh, true));
        refresh();
      }, refresh);
    }, 5000);
  };
  refresh();

  // Filters: a <select data-autosubmit> submits its form on change (the Filter button stays).
  document.addEventListener('change', function (ev) {
    var el = ev.target;
    if (el.hasAttribute && el.hasAttribute('data-autosubmit') && el.form) { el.form.submit(); }
  });
})();
