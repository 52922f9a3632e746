// respond console: the buttons that change state call the /v1 API (the one place approvals, rejections, rearms and
// undos happen, audited with your name and reason) with the anti-forgery token of this page. No other script runs.
(function () {
  'use strict';
  var token = document.querySelector('meta[name="csrf-token"]');
  var header = document.querySelector('meta[name="csrf-header"]');
  var flash = document.getElementById('flash');

  function show(text, ok) {
    if (!flash) return;
    flash.textContent = text;
    flash.className = ok ? '' : 'error';
  }

  try {
    var pending = sessionStorage.getItem('respond-flash');
    if (pending) {
      sessionStorage.removeItem('respond-flash');
      var saved = JSON.parse(pending);
      show(saved.text, saved.ok);
    }
  } catch (e) { /* no session storage: nothing to show */ }

  document.addEventListener('submit', function (event) {
    var form = event.target;
    var button = event.submitter;
    if (!button || !button.getAttribute('data-post')) return;
    event.preventDefault();
    var out = form.querySelector('output');
    var reason = form.elements.reason ? form.elements.reason.value.trim() : '';
    if (!reason) {
      if (out) { out.textContent = 'A reason is required: it is recorded in the audit with your name.'; out.className = 'error'; }
      if (form.elements.reason) form.elements.reason.focus();
      return;
    }
    var body = { reason: reason };
    if (form.elements.requeue) body.requeue = form.elements.requeue.checked;
    var buttons = form.querySelectorAll('button');
    buttons.forEach(function (b) { b.disabled = true; });
    if (out) { out.textContent = 'Working…'; out.className = ''; }
    var headers = { 'Content-Type': 'application/json', 'Accept': 'application/json' };
    if (token && header) headers[header.content] = token.content;
    fetch(button.getAttribute('data-post'), { method: 'POST', credentials: 'same-origin', headers: headers, body: JSON.stringify(body) })
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (data) { return { response: response, data: data }; });
      })
      .then(function (r) {
        if (r.response.ok) {
          try { sessionStorage.setItem('respond-flash', JSON.stringify({ ok: true, text: r.data.message || 'Done.' })); } catch (e) { /* shown below */ }
          var next = button.getAttribute('data-then');
          if (next) window.location.assign(next); else window.location.reload();
          return;
        }
        buttons.forEach(function (b) { b.disabled = false; });
        var text = (r.data.title ? r.data.title + ': ' : '') + (r.data.detail || ('HTTP ' + r.response.status));
        if (out) { out.textContent = text; out.className = 'error'; }
      })
      .catch(function (e) {
        buttons.forEach(function (b) { b.disabled = false; });
        if (out) { out.textContent = 'The console could not be reached: ' + e.message; out.className = 'error'; }
      });
  });
})();
