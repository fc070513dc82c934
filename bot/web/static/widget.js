// shop-assist chat widget. Speaks Rasa's socket.io protocol to the gateway.
// Text is always rendered with textContent: shopper, bot and agent text is never markup.
(function () {
  "use strict";
  const UI = {
    zh: { title: "小店客服", send: "发送", placeholder: "输入消息，回车发送…", lang: "EN", you: "我", bot: "小助手",
          offline: "连接已断开，正在重连…", uploadFailed: "图片上传失败：", photo: "图片" },
    en: { title: "Shop support", send: "Send", placeholder: "Type a message…", lang: "中文", you: "Me", bot: "Assistant",
          offline: "Connection lost, reconnecting…", uploadFailed: "Upload failed: ", photo: "Photo" },
  };
  const $ = (id) => document.getElementById(id);
  const list = $("messages");
  const picker = $("shopper-select");
  let shopper = localStorage.getItem("shopper") || "u1001";
  let lang = localStorage.getItem("lang") || "zh";
  const seen = new Set();

  const pendingKey = () => "pending:" + shopper;
  const loadPending = () => JSON.parse(localStorage.getItem(pendingKey()) || "[]");
  const savePending = (items) => localStorage.setItem(pendingKey(), JSON.stringify(items));
  const newId = () => (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random().toString(16).slice(2));

  function applyLanguage() {
    const t = UI[lang];
    $("chat-title").textContent = t.title;
    $("send").textContent = t.send;
    $("text").placeholder = t.placeholder;
    $("lang-toggle").textContent = t.lang;
    $("photo-button").textContent = t.photo;
    document.documentElement.lang = lang;
  }

  function scrollDown() { list.scrollTop = list.scrollHeight; }

  function render(m, opts) {
    opts = opts || {};
    if (m.id && seen.has(m.id)) return null;
    if (m.id) seen.add(m.id);
    const li = document.createElement("li");
    const role = ["shopper", "bot", "agent", "system"].includes(m.role) ? m.role : "bot";
    li.className = "msg " + role + (opts.pending ? " pending" : "");
    if (m.id) li.dataset.id = m.id;
    if (opts.clientId) li.dataset.clientId = opts.clientId;
    if (role === "agent" || role === "bot") {
      const who = document.createElement("span");
      who.className = "who";
      who.textContent = role === "agent" ? (m.author || "agent") : UI[lang].bot;
      li.appendChild(who);
    }
    const bubble = document.createElement("div");
    bubble.className = "bubble";
    if (m.text) bubble.textContent = m.text;
    const src = m.attachment && m.attachment.payload && m.attachment.payload.src;
    if (src && src.startsWith("/uploads/")) {
      const img = document.createElement("img");
      img.src = src;
      img.alt = "photo";
      bubble.appendChild(img);
    }
    if (m.card && typeof m.card === "object") {
      const card = document.createElement("div");
      card.className = "card";
      const title = document.createElement("strong");
      title.textContent = String(m.card.title || "");
      card.appendChild(title);
      (Array.isArray(m.card.lines) ? m.card.lines : []).forEach((line) => {
        const row = document.createElement("div");
        row.textContent = String(line);
        card.appendChild(row);
      });
      bubble.appendChild(card);
    }
    li.appendChild(bubble);
    if (Array.isArray(m.quick_replies) && m.quick_replies.length) {
      const box = document.createElement("div");
      box.className = "replies";
      m.quick_replies.forEach((q) => {
        const b = document.createElement("button");
        b.type = "button";
        b.textContent = String(q.title || "");
        b.addEventListener("click", () => send(String(q.payload || q.title || ""), String(q.title || "")));
        box.appendChild(b);
      });
      li.appendChild(box);
    }
    list.appendChild(li);
    scrollDown();
    return li;
  }

  const socket = io({ transports: ["websocket", "polling"] });

  socket.on("connect", () => {
    $("status").classList.add("hidden");
    socket.emit("session_request", { session_id: shopper });
  });
  socket.on("disconnect", () => {
    $("status").textContent = UI[lang].offline;
    $("status").classList.remove("hidden");
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
  socket.on("bot_uttered", (m) => { $("typing").classList.add("hidden"); render(m); });
  socket.on("typing", (t) => $("typing").classList.toggle("hidden", !(t && t.on)));

  function emit(p) {
    socket.emit("user_uttered",
      { message: p.message, session_id: shopper, customData: { language: lang, client_id: p.client_id } },
      (ack) => {
        savePending(loadPending().filter((x) => x.client_id !== p.client_id));
        const li = list.querySelector('[data-client-id="' + p.client_id + '"]');
        if (li && ack && ack.ok && ack.duplicate && seen.has(ack.id)) {
          li.remove();  // stored before the reload: the history already shows it
        } else if (li && ack && ack.ok) {
          li.classList.remove("pending");
          if (ack.id) { li.dataset.id = ack.id; seen.add(ack.id); }
        } else if (li && ack && !ack.ok) {
          li.remove();
        }
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

  $("composer").addEventListener("submit", (e) => {
    e.preventDefault();
    const input = $("text");
    send(input.value);
    input.value = "";
  });

  $("photo-button").addEventListener("click", () => $("photo-input").click());
  $("photo-input").addEventListener("change", async () => {
    const file = $("photo-input").files[0];
    if (!file) return;
    const form = new FormData();
    form.append("session_id", shopper);
    form.append("file", file);
    // Attach to the last case number the chat mentioned, if any.
    const cases = (list.textContent.match(/AS\d{10,12}/g) || []);
    if (cases.length) form.append("case_no", cases[cases.length - 1]);
    const res = await fetch("/api/upload", { method: "POST", body: form });
    if (!res.ok) {
      const body = await res.json().catch(() => ({}));
      render({ role: "system", text: UI[lang].uploadFailed + (body.error || res.status) });
    }
    $("photo-input").value = "";
  });

  $("chat-bubble").addEventListener("click", () => {
    $("chat").classList.remove("hidden");
    $("chat-bubble").classList.add("hidden");
    localStorage.setItem("chat-open", "1");
    $("text").focus();
  });
  $("chat-close").addEventListener("click", () => {
    $("chat").classList.add("hidden");
    $("chat-bubble").classList.remove("hidden");
    localStorage.removeItem("chat-open");
  });
  $("lang-toggle").addEventListener("click", () => {
    lang = lang === "zh" ? "en" : "zh";
    localStorage.setItem("lang", lang);
    applyLanguage();
  });
  if (picker) {
    picker.value = shopper;
    picker.addEventListener("change", () => {
      localStorage.setItem("shopper", picker.value);
      location.reload();
    });
  }
  if (localStorage.getItem("chat-open")) {
    $("chat").classList.remove("hidden");
    $("chat-bubble").classList.add("hidden");
  }
  applyLanguage();
})();
