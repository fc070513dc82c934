// shop-assist chat widget: one script tag on any page of the shop (docs/embedding.md).
//   <script src="https://GATEWAY/static/widget.js" data-token-url="/chat-token" async></script>
// data-token-url: a URL of the shop's own site answering {"token": "..."} for the logged-in shopper
// (or {"token": null} for a visitor); data-token: a token written into the page instead.
// It speaks Rasa's socket.io protocol to the gateway. Text is always rendered with textContent.
(function () {
  "use strict";
  const script = document.currentScript;
  const BASE = new URL(script.src, location.href).origin;
  const TOKEN_URL = script.dataset.tokenUrl || "";
  const STATIC_TOKEN = script.dataset.token || "";
  const UI = {
    zh: { title: "小店客服", send: "发送", placeholder: "输入消息，回车发送…", lang: "EN", bot: "小助手", open: "客服",
          offline: "连接已断开，正在重连…", uploadFailed: "图片上传失败：", photo: "图片", login: "请先登录店铺账号再发送照片哦～" },
    en: { title: "Shop support", send: "Send", placeholder: "Type a message…", lang: "中文", bot: "Assistant", open: "Chat",
          offline: "Connection lost, reconnecting…", uploadFailed: "Upload failed: ", photo: "Photo", login: "Please log in to send photos." },
  };
  const store = {
    get: (k, d) => { try { return localStorage.getItem("shop-assist:" + k) || d; } catch (e) { return d; } },
    set: (k, v) => { try { if (v == null) localStorage.removeItem("shop-assist:" + k); else localStorage.setItem("shop-assist:" + k, v); } catch (e) { /* private mode */ } },
  };
  let lang = store.get("lang", script.dataset.lang || "zh");
  let token = null;     // the shopper's token, fetched afresh for every (re)connection
  let who = null;       // {shopper: bool, session_id}: what the gateway decided
  const seen = new Set();

  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => e.setAttribute(k, v));
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // --- the widget's own DOM and style, so any page can host it ----------------
  document.head.appendChild(el("link", { rel: "stylesheet", href: BASE + "/static/widget.css" }));
  const bubble = el("button", { id: "chat-bubble", class: "chat-bubble", "aria-label": "chat" });
  const chat = el("section", { id: "chat", class: "chat hidden", "aria-label": "shop chat" });
  const head = el("header", { class: "chat-head" });
  const title = el("span", { id: "chat-title" });
  const langToggle = el("button", { id: "lang-toggle", class: "lang", type: "button", title: "语言 / language" });
  const close = el("button", { id: "chat-close", class: "close", type: "button", "aria-label": "close" }, "×");
  head.append(title, langToggle, close);
  const status = el("div", { id: "status", class: "status hidden" });
  const list = el("ol", { id: "messages", class: "messages", "aria-live": "polite" });
  const typing = el("div", { id: "typing", class: "typing hidden" });
  typing.append(el("span"), el("span"), el("span"));
  const composer = el("form", { id: "composer", class: "composer" });
  const photoButton = el("button", { type: "button", id: "photo-button", class: "photo", title: "photo" });
  const photoInput = el("input", { type: "file", id: "photo-input", accept: "image/*", hidden: "" });
  const input = el("input", { id: "text", autocomplete: "off", maxlength: "2000" });
  const sendButton = el("button", { id: "send", type: "submit" });
  composer.append(photoButton, photoInput, input, sendButton);
  chat.append(head, status, list, typing, composer);
  document.body.append(bubble, chat);

  const identityKey = () => (who ? who.session_id : "none");
  const pendingKey = () => "pending:" + identityKey();
  const loadPending = () => JSON.parse(store.get(pendingKey(), "[]"));
  const savePending = (items) => store.set(pendingKey(), JSON.stringify(items));
  const newId = () => (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random().toString(16).slice(2));

  function applyLanguage() {
    const t = UI[lang];
    title.textContent = t.title;
    sendButton.textContent = t.send;
    input.placeholder = t.placeholder;
    langToggle.textContent = t.lang;
    photoButton.textContent = t.photo;
    bubble.textContent = t.open;
  }

  function scrollDown() { list.scrollTop = list.scrollHeight; }

  function render(m, opts) {
    opts = opts || {};
    if (m.id && seen.has(m.id)) return null;
    if (m.id) seen.add(m.id);
    const li = el("li");
    const role = ["shopper", "bot", "agent", "system"].includes(m.role) ? m.role : "bot";
    li.className = "msg " + role + (opts.pending ? " pending" : "");
    if (m.id) li.dataset.id = m.id;
    if (opts.clientId) li.dataset.clientId = opts.clientId;
    if (m.notice) li.dataset.notice = m.notice;
    if (role === "agent" || role === "bot") {
      li.appendChild(el("span", { class: "who" }, role === "agent" ? (m.author || "agent") : UI[lang].bot));
    }
    const box = el("div", { class: "bubble" });
    if (m.text) box.textContent = m.text;
    const src = m.attachment && m.attachment.payload && m.attachment.payload.src;
    if (typeof src === "string" && src.startsWith("/uploads/")) {
      box.appendChild(el("img", { src: BASE + src, alt: "photo" }));
    }
    if (m.card && typeof m.card === "object") {
      const card = el("div", { class: "card" });
      card.appendChild(el("strong", {}, String(m.card.title || "")));
      (Array.isArray(m.card.lines) ? m.card.lines : []).forEach((line) => card.appendChild(el("div", {}, String(line))));
      box.appendChild(card);
    }
    li.appendChild(box);
    if (Array.isArray(m.quick_replies) && m.quick_replies.length) {
      const replies = el("div", { class: "replies" });
      m.quick_replies.forEach((q) => {
        const b = el("button", { type: "button" }, String(q.title || ""));
        b.addEventListener("click", () => send(String(q.payload || q.title || ""), String(q.title || "")));
        replies.appendChild(b);
      });
      li.appendChild(replies);
    }
    list.appendChild(li);
    scrollDown();
    return li;
  }

  async function fetchToken() {
    if (STATIC_TOKEN) return STATIC_TOKEN;
    if (!TOKEN_URL) return null;
    try {
      const res = await fetch(TOKEN_URL, { credentials: "include", cache: "no-store" });
      const body = await res.json();
      return typeof body.token === "string" ? body.token : null;
    } catch (e) {
      return null;  // no token: chat as a visitor
    }
  }

  function loadSocketIo() {
    if (window.io) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const s = el("script", { src: BASE + "/static/vendor/socket.io.min.js" });
      s.onload = resolve;
      s.onerror = reject;
      document.head.appendChild(s);
    });
  }

  let socket = null;

  function start() {
    socket = window.io(BASE, {
      transports: ["websocket", "polling"],
      // Called on every (re)connection: a fresh token, or the visitor id the gateway signed.
      auth: (cb) => fetchToken().then((t) => { token = t; cb({ token: t, visitor: store.get("visitor", ""), shape: "shop-assist" }); }),
    });
    socket.on("connect", () => {
      status.classList.add("hidden");
      socket.emit("session_request", { session_id: token ? undefined : store.get("visitor", undefined) });
    });
    const offline = () => {
      status.textContent = UI[lang].offline;
      status.classList.remove("hidden");
    };
    socket.on("disconnect", offline);
    socket.on("connect_error", offline);
    socket.on("identity", (i) => {
      // Messages typed before the gateway said who this is join this identity's pending list.
      const early = JSON.parse(store.get("pending:none", "[]"));
      store.set("pending:none", null);
      who = i;
      if (early.length) savePending(loadPending().concat(early));
      if (!i.shopper) store.set("visitor", i.session_id);
    });
    socket.on("session_confirm", () => socket.emit("history_request", {}));
    socket.on("history", (messages) => {
      list.textContent = "";
      seen.clear();
      (messages || []).forEach((m) => render(m));
      // Anything sent but not acknowledged before a reload or a dropped
      // connection goes again with the same id; the gateway stores it once.
      loadPending().forEach((p) => {
        render({ role: "shopper", text: p.shown }, { pending: true, clientId: p.client_id });
        emit(p);
      });
    });
    socket.on("bot_uttered", (m) => { typing.classList.add("hidden"); render(m); });
    socket.on("typing", (t) => typing.classList.toggle("hidden", !(t && t.on)));
  }

  function emit(p) {
    // Not connected yet: it stays pending and goes out when the history arrives.
    if (!socket || !socket.connected || !who) return;
    socket.emit("user_uttered", { message: p.message, customData: { language: lang, client_id: p.client_id } }, (ack) => {
      const li = list.querySelector('[data-client-id="' + p.client_id + '"]');
      // Too fast, or the gateway could not store it just now: kept, and sent again.
      if (ack && !ack.ok && (ack.error === "busy" || ack.error === "retry")) {
        setTimeout(() => emit(p), (ack.seconds || 5) * 1000);
        return;
      }
      savePending(loadPending().filter((x) => x.client_id !== p.client_id));
      if (!li || !ack) return;
      if (!ack.ok) { li.remove(); return; }
      // The same message can be acknowledged twice (sent, then resent when the history
      // arrived); it is only a duplicate on screen if another element already shows it.
      const shown = ack.id && list.querySelector('[data-id="' + ack.id + '"]');
      if (shown && shown !== li) { li.remove(); return; }
      li.classList.remove("pending");
      if (ack.id) { li.dataset.id = ack.id; seen.add(ack.id); }
    });
  }

  function send(message, shown) {
    message = message.trim();
    if (!message) return;
    const p = { client_id: newId(), message: message, shown: shown || message };
    savePending(loadPending().concat([p]));
    render({ role: "shopper", text: p.shown }, { pending: true, clientId: p.client_id });
    emit(p);
  }

  composer.addEventListener("submit", (e) => {
    e.preventDefault();
    send(input.value);
    input.value = "";
  });

  photoButton.addEventListener("click", () => photoInput.click());
  photoInput.addEventListener("change", async () => {
    const file = photoInput.files[0];
    if (!file) return;
    if (!token) {
      render({ role: "system", text: UI[lang].login });
      photoInput.value = "";
      return;
    }
    const headers = { Authorization: "Bearer " + token, "Content-Type": file.type || "application/octet-stream" };
    // Attach to the last case number the chat mentioned, if any.
    const cases = (list.textContent.match(/AS\d{10,12}/g) || []);
    if (cases.length) headers["X-Case-No"] = cases[cases.length - 1];
    try {
      const res = await fetch(BASE + "/api/upload", { method: "POST", headers: headers, body: file });
      if (!res.ok) {
        const body = await res.json().catch(() => ({}));
        render({ role: "system", text: UI[lang].uploadFailed + (body.error || res.status) });
      }
    } catch (e) {
      render({ role: "system", text: UI[lang].uploadFailed + e });
    }
    photoInput.value = "";
  });

  function setOpen(open) {
    chat.classList.toggle("hidden", !open);
    bubble.classList.toggle("hidden", open);
    store.set("open", open ? "1" : null);
    if (open) input.focus();
  }
  bubble.addEventListener("click", () => setOpen(true));
  close.addEventListener("click", () => setOpen(false));
  langToggle.addEventListener("click", () => {
    lang = lang === "zh" ? "en" : "zh";
    store.set("lang", lang);
    applyLanguage();
  });
  if (store.get("open", "")) setOpen(true);
  applyLanguage();
  loadSocketIo().then(start, () => { status.textContent = UI[lang].offline; status.classList.remove("hidden"); });
})();
