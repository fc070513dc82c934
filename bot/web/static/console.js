// Agent console. Every call needs the agent's session; text is rendered with textContent only.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const REASONS = { complaint: "投诉/纠纷 complaint", bad_review: "差评 bad review", human_request: "要求人工 asked for a person",
                    fallback: "机器人没听懂 bot did not understand", needs_decision: "需要决定 needs a decision",
                    product_question: "商品资料没有 catalogue lacks it" };
  let me = null;
  let current = null;

  async function api(path, body) {
    const opts = body === undefined ? {} : { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
    const res = await fetch(path, opts);
    const data = await res.json().catch(() => ({}));
    if (res.status === 401) { location.href = "/console"; }
    return { ok: res.ok, status: res.status, data };
  }

  function flash(text) { $("flash").textContent = text; setTimeout(() => { $("flash").textContent = ""; }, 4000); }
  function el(tag, text, cls) { const e = document.createElement(tag); if (text !== undefined) e.textContent = text; if (cls) e.className = cls; return e; }
  function wait(seconds) { if (seconds == null) return ""; const m = Math.floor(seconds / 60); return m ? m + " min" : seconds + " s"; }

  async function loadQueue() {
    const { ok, data } = await api("/console/api/queue");
    if (!ok) return;
    $("waiting-count").textContent = "(" + data.waiting.length + ")";
    for (const [id, items] of [["waiting", data.waiting], ["mine", data.mine]]) {
      const ul = $(id);
      ul.textContent = "";
      items.forEach((c) => {
        const li = el("li", undefined, "item p" + c.priority + (current === c.id ? " active" : ""));
        li.dataset.id = c.id;
        li.appendChild(el("strong", c.id));
        li.appendChild(el("span", " " + (REASONS[c.reason] || c.reason || "") + " · " + (c.language === "en" ? "EN" : "中文")
          + (c.waiting_seconds != null ? " · " + wait(c.waiting_seconds) : "")));
        li.addEventListener("click", () => open(c.id));
        ul.appendChild(li);
      });
    }
  }

  function renderMessage(m) {
    const li = el("li", undefined, "msg " + m.role);
    li.appendChild(el("span", (m.role === "agent" ? (m.author || "agent") : m.role) + " ", "who"));
    li.appendChild(el("span", m.text || ""));
    if (m.role === "shopper" && m.id && m.text) {
      // The bot misread this: it goes to the review list for a label.
      const f = el("button", "⚑", "flag");
      f.type = "button";
      f.title = "机器人理解错了，送去标注 / The bot misread this: send it for labelling";
      f.setAttribute("aria-label", f.title);
      f.addEventListener("click", async () => {
        const { ok, data } = await api("/console/api/review/" + m.id + "/flag", {});
        flash(ok ? "已送去标注 / Sent for labelling" : (data.error || "error"));
        if (ok) { f.disabled = true; loadLearn(); }
      });
      li.appendChild(f);
    }
    const src = m.attachment && m.attachment.payload && m.attachment.payload.src;
    if (src && src.startsWith("/uploads/")) { const img = el("img"); img.src = src; img.alt = "photo"; li.appendChild(img); }
    $("transcript").appendChild(li);
    $("transcript").scrollTop = $("transcript").scrollHeight;
  }

  const STATUSES = ["open", "awaiting_photos", "awaiting_return", "received", "repairing", "refunded", "closed", "rejected"];

  // A case with its evidence photos, and what an agent may change on it.
  function renderCase(k) {
    const box = el("div", undefined, "case");
    box.dataset.case = k.case_no;
    const last = k.progress ? k.progress.split("\n").pop() : "";
    box.appendChild(el("div", "售后 " + k.case_no + " · " + k.kind + " · " + k.status + (k.remedy ? " · " + k.remedy : "")
      + (k.amount ? " · 上限 cap ¥" + k.amount : "") + (k.amount_paid ? " · 已付 paid ¥" + k.amount_paid : "")
      + (last ? " · " + last : "") + (k.return_tracking_no ? " · 寄回 " + k.return_tracking_no : "")));
    if (k.photos.length) {
      const strip = el("div", undefined, "photos");
      k.photos.forEach((src) => { const img = el("img", undefined, "case-photo"); img.src = src; img.alt = k.case_no; strip.appendChild(img); });
      box.appendChild(strip);
    }
    const form = el("form", undefined, "case-form");
    const status = el("select");
    STATUSES.forEach((s) => { const o = el("option", s); o.value = s; o.selected = s === k.status; status.appendChild(o); });
    const progress = el("input"); progress.placeholder = "进度 progress"; progress.maxLength = 200; progress.name = "progress";
    const tracking = el("input"); tracking.placeholder = "寄回单号 tracking no"; tracking.maxLength = 64; tracking.name = "tracking";
    const paid = el("input"); paid.placeholder = "补偿已付 paid ¥"; paid.maxLength = 12; paid.name = "paid";
    const save = el("button", "更新 Update"); save.type = "submit";
    [status, progress, tracking, paid, save].forEach((e) => form.appendChild(e));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const body = {};
      if (status.value !== k.status) body.status = status.value;
      if (progress.value.trim()) body.progress = progress.value.trim();
      if (tracking.value.trim()) body.return_tracking_no = tracking.value.trim();
      if (paid.value.trim()) body.amount_paid = paid.value.trim();
      const { ok, data } = await api("/console/api/cases/" + encodeURIComponent(k.case_no), body);
      flash(ok ? "售后单已更新 case updated" : (data.error || "error"));
      if (ok && current) open(current, true);
    });
    box.appendChild(form);
    return box;
  }

  // The shop's registers: after-sales, repairs, wrong shipments, lost parcels, compensation.
  async function showRegister() {
    const name = $("register-name").value;
    const { ok, data } = await api("/console/api/registers/" + encodeURIComponent(name));
    if (!ok) { flash(data.error || "error"); return; }
    const table = $("register-table");
    table.textContent = "";
    const cols = ["case_no", "order_no", "shopper", "kind", "status", "item", "remedy", "progress", "return_tracking_no", "amount", "amount_paid", "note", "created_at"]
      .filter((c) => data.some((r) => r[c] != null && r[c] !== ""));
    const head = el("tr");
    cols.concat(["photos"]).forEach((c) => head.appendChild(el("th", c)));
    table.appendChild(head);
    data.forEach((r) => {
      const tr = el("tr");
      cols.forEach((c) => tr.appendChild(el("td", r[c] == null ? "" : String(r[c]))));
      const cell = el("td");
      (r.photos || []).forEach((src) => { const img = el("img", undefined, "case-photo"); img.src = src; cell.appendChild(img); });
      tr.appendChild(cell);
      table.appendChild(tr);
    });
    $("register-count").textContent = data.length + " 条 rows";
    $("register").classList.remove("hidden");
  }

  // Shopper messages the bot fell back on, was unsure of, or an agent flagged: one label each.
  const WHY = { fallback: "没听懂 fell back", unsure: "没把握 unsure", flagged: "已标记 flagged" };
  async function loadLearn(show) {
    const { ok, data } = await api("/console/api/review");
    if (!ok) return;
    $("learn-count").textContent = "(" + data.messages.length + ")";
    const table = $("learn-table");
    table.textContent = "";
    const head = el("tr");
    ["买家说 shopper said", "会话 conversation", "原因 why", "机器人理解 bot's guess", "正确意图 right intent", ""].forEach((c) => head.appendChild(el("th", c)));
    table.appendChild(head);
    data.messages.forEach((m) => {
      const tr = el("tr");
      tr.dataset.message = m.id;
      tr.appendChild(el("td", m.text));
      tr.appendChild(el("td", m.conversation));
      tr.appendChild(el("td", (WHY[m.reason] || m.reason) + (m.flagged_by ? " · " + m.flagged_by : "")));
      tr.appendChild(el("td", (m.intent || "") + (m.confidence != null ? " (" + Math.round(m.confidence * 100) + "%)" : "")));
      const pick = el("select");
      pick.setAttribute("aria-label", "正确意图 / Right intent");
      data.labels.forEach((name) => { const o = el("option", name); o.value = name; if (name === m.intent) o.selected = true; pick.appendChild(o); });
      const cell = el("td");
      cell.appendChild(pick);
      tr.appendChild(cell);
      const go = el("button", "标注 / Label");
      go.type = "button";
      go.addEventListener("click", async () => {
        const res = await api("/console/api/review/" + m.id + "/label", { intent: pick.value });
        flash(res.ok ? "已标注 / Labelled: " + pick.value : (res.data.error || "error"));
        if (res.ok) loadLearn(true);
      });
      const last = el("td");
      last.appendChild(go);
      tr.appendChild(last);
      table.appendChild(tr);
    });
    $("learn-rows").textContent = data.messages.length + " 条 rows";
    if (show) $("learn").classList.remove("hidden");
  }

  function closeConversation() {
    current = null;
    $("conversation").classList.add("hidden");
    $("empty").classList.remove("hidden");
  }

  // quiet: after an action, a conversation this agent may no longer see (handed
  // back, transferred, taken by another) just closes, keeping the action's message.
  async function open(id, quiet) {
    const { ok, data } = await api("/console/api/conversations/" + encodeURIComponent(id));
    if (!ok) { if (!quiet) flash(data.error || "error"); closeConversation(); loadQueue(); return; }
    current = id;
    const c = data.conversation;
    $("empty").classList.add("hidden");
    $("conversation").classList.remove("hidden");
    $("conv-title").textContent = id + (data.shopper ? " · " + data.shopper.nickname : "");
    $("conv-reason").textContent = (REASONS[c.reason] || c.reason || c.owner) + (c.agent ? " · " + c.agent : "");
    const mine = c.owner === "agent" && c.agent_id === me.id;
    $("claim").classList.toggle("hidden", c.owner !== "waiting");
    for (const b of ["resolve", "transfer", "transfer-to", "reply-form"]) $(b).classList.toggle("hidden", !mine);
    $("transcript").textContent = "";
    data.transcript.forEach(renderMessage);
    $("facts").textContent = JSON.stringify({ intent: c.intent, reason: c.reason, priority: c.priority, ...c.facts }, null, 2);
    const s = data.shopper;
    $("shopper").textContent = s ? s.nickname + " · " + s.phone + " · " + s.address : "(unknown shopper)";
    const orders = $("orders");
    orders.textContent = "";
    for (const sel of ["note-order", "review-order"]) $(sel).textContent = "";
    data.orders.forEach((o) => {
      const box = el("div", undefined, "order");
      box.appendChild(el("strong", o.order_no + " · " + o.status + " · ¥" + o.total));
      box.appendChild(el("div", o.items.join("；")));
      if (o.tracking_no) box.appendChild(el("div", (o.courier || "") + " " + o.tracking_no + (o.last_tracking ? " · " + o.last_tracking.text : "")));
      o.cases.forEach((k) => box.appendChild(renderCase(k)));
      o.notes.forEach((n) => box.appendChild(el("div", (n.flag === "red" ? "[红旗] " : n.flag === "blue" ? "[蓝旗] " : "") + n.text, "note")));
      orders.appendChild(box);
      for (const sel of ["note-order", "review-order"]) { const opt = el("option", o.order_no); opt.value = o.order_no; $(sel).appendChild(opt); }
    });
    loadQueue();
  }

  $("claim").addEventListener("click", async () => {
    const { ok, data } = await api("/console/api/conversations/" + encodeURIComponent(current) + "/claim", {});
    flash(ok ? "已接入 claimed" : (data.error || "error"));
    open(current, true);
  });
  $("resolve").addEventListener("click", async () => {
    const { ok, data } = await api("/console/api/conversations/" + encodeURIComponent(current) + "/resolve", {});
    flash(ok ? "已交回机器人 handed back" : (data.error || "error"));
    open(current, true);
  });
  $("transfer").addEventListener("click", async () => {
    const { ok, data } = await api("/console/api/conversations/" + encodeURIComponent(current) + "/transfer", { agent_id: Number($("transfer-to").value) });
    flash(ok ? "已转接 transferred" : (data.error || "error"));
    open(current, true);
  });
  $("reply-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const text = $("reply").value.trim();
    if (!text) return;
    const { ok, data } = await api("/console/api/conversations/" + encodeURIComponent(current) + "/messages", { text });
    if (ok) $("reply").value = ""; else flash(data.error || "error");
  });
  $("register-show").addEventListener("click", showRegister);
  $("learn-show").addEventListener("click", () => loadLearn(true));
  $("learn-close").addEventListener("click", () => $("learn").classList.add("hidden"));
  $("register-close").addEventListener("click", () => $("register").classList.add("hidden"));
  $("phrases").addEventListener("change", () => { if ($("phrases").value) { $("reply").value += $("phrases").value; $("phrases").value = ""; $("reply").focus(); } });
  $("note-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const { ok, data } = await api("/console/api/conversations/" + encodeURIComponent(current) + "/notes",
      { order_no: $("note-order").value, flag: $("note-flag").value || null, text: $("note-text").value });
    flash(ok ? "备注已添加 note added" : (data.error || "error"));
    if (ok) { $("note-text").value = ""; open(current); }
  });
  $("review-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const { ok, data } = await api("/console/api/conversations/" + encodeURIComponent(current) + "/bad_reviews", {
      order_no: $("review-order").value, item: $("review-item").value, review_text: $("review-text").value,
      severity: Number($("review-severity").value), status: $("review-status").value, progress: $("review-progress").value });
    flash(ok ? "差评已登记 review recorded" : (data.error || "error"));
  });

  // Supervisors: disable an agent (ends its sessions, its chats go back to the queue) or enable it.
  async function loadAgents() {
    const { ok, data } = await api("/console/api/agents");
    if (!ok) return;
    $("agents-panel").classList.remove("hidden");
    const ul = $("agents");
    ul.textContent = "";
    data.filter((a) => a.id !== me.id).forEach((a) => {
      const li = el("li", a.name + " (" + a.username + ") " + (a.active ? "" : "· 已停用 disabled "));
      const b = el("button", a.active ? "停用 Disable" : "启用 Enable");
      b.dataset.agent = a.username;
      b.addEventListener("click", async () => {
        const res = await api("/console/api/agents/" + a.id + "/active", { active: !a.active });
        flash(res.ok ? "已更新 updated" : (res.data.error || "error"));
        loadAgents();
      });
      li.appendChild(b);
      ul.appendChild(li);
    });
  }

  (async function start() {
    const res = await api("/console/api/me");
    if (!res.ok) return;
    me = res.data;
    $("me").textContent = me.name + " (" + me.role + ")";
    const phrases = (await api("/console/api/phrases")).data;
    phrases.forEach((p) => { for (const t of [p.zh, p.en]) { const o = el("option", t); o.value = t; $("phrases").appendChild(o); } });
    const agents = (await api("/console/api/agents")).data;
    agents.filter((a) => a.id !== me.id).forEach((a) => { const o = el("option", a.name + " (" + a.role + ")"); o.value = a.id; $("transfer-to").appendChild(o); });
    const socket = io("/console", { auth: { token: me.token }, transports: ["websocket", "polling"] });
    socket.on("queue_changed", loadQueue);
    socket.on("assigned", loadQueue);
    socket.on("message", (e) => { if (e.conversation_id === current) renderMessage(e.message); });
    // The server closes the socket when this session ends (logged out elsewhere, disabled).
    socket.on("disconnect", (reason) => { if (reason === "io server disconnect") location.href = "/console"; });
    if (me.role === "supervisor") loadAgents();
    loadQueue();
    loadLearn();
    setInterval(loadQueue, 15000);  // keeps the wait times moving
  })();
})();
