// The web chat: an AG-UI client in one dependency-free script.
// It builds every element with the DOM API and sets text with textContent: nothing the
// agent writes is ever parsed as HTML.
"use strict";

(() => {
  const endpoint = document.querySelector('meta[name="ag-ui-endpoint"]').content;
  const $ = (id) => document.getElementById(id);
  const view = {
    messages: $("messages"),
    empty: $("empty"),
    threads: $("threads"),
    title: $("thread-title"),
    status: $("status"),
    form: $("composer"),
    text: $("composer-text"),
    send: $("send"),
    stop: $("stop"),
    attach: $("attach"),
    attachments: $("attachments"),
    keyDialog: $("key-dialog"),
    keyInput: $("key-input"),
    keyReason: $("key-reason"),
  };
  const KEY = "ag-ui-key";
  const LAST_THREAD = "ag-ui-last-thread";

  const chat = {
    threadId: null,
    runId: null,
    lastEventId: -1,
    controller: null,
    pending: [], // images to send: {mimeType, data, url}
    shown: new Set(), // ids of the messages on screen
    bubbles: new Map(), // message id -> {element, text}
    tools: new Map(), // tool call id -> {element, args}
    retryAfterKey: null,
  };

  // ---- small helpers ------------------------------------------------------

  function newId() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function el(tag, props = {}, children = []) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(props)) {
      if (name === "text") node.textContent = value;
      else if (name === "dataset") Object.assign(node.dataset, value);
      else if (name in node && typeof value !== "string") node[name] = value;
      else node.setAttribute(name, value);
    }
    for (const child of children) if (child) node.append(child);
    return node;
  }

  function headers(extra = {}) {
    const key = localStorage.getItem(KEY);
    return key ? { ...extra, Authorization: `Bearer ${key}` } : extra;
  }

  function setStatus(text) {
    view.status.textContent = text;
  }

  function scrollDown() {
    const box = view.messages;
    if (box.scrollHeight - box.scrollTop - box.clientHeight < 160) box.scrollTop = box.scrollHeight;
  }

  function pretty(text) {
    try {
      return JSON.stringify(JSON.parse(text), null, 2);
    } catch {
      return text;
    }
  }

  // ---- Markdown, rendered into DOM nodes (never HTML) -----------------------

  const INLINE = /(`+)([^`]|[^`][\s\S]*?[^`])\1(?!`)|\*\*([^*]+)\*\*|__([^_]+)__|\*([^*\s][^*]*)\*|_([^_\s][^_]*)_|\[([^\]]+)\]\(([^)\s]+)\)|(https?:\/\/[^\s<)]+)/g;

  function inline(text, parent) {
    let last = 0;
    for (const m of text.matchAll(INLINE)) {
      if (m.index > last) parent.append(text.slice(last, m.index));
      if (m[2] !== undefined) parent.append(el("code", { text: m[2] }));
      else if (m[3] !== undefined || m[4] !== undefined) inline(m[3] ?? m[4], parent.appendChild(el("strong")));
      else if (m[5] !== undefined || m[6] !== undefined) inline(m[5] ?? m[6], parent.appendChild(el("em")));
      else if (m[7] !== undefined) parent.append(link(m[8], m[7]));
      else parent.append(link(m[9], m[9]));
      last = m.index + m[0].length;
    }
    if (last < text.length) parent.append(text.slice(last));
  }

  function link(href, label) {
    if (!/^https?:\/\//i.test(href)) return `[${label}](${href})`;
    return el("a", { href, text: label, target: "_blank", rel: "noopener noreferrer" });
  }

  function markdown(source) {
    const root = document.createDocumentFragment();
    const lines = source.replace(/\r\n?/g, "\n").split("\n");
    let i = 0;
    let paragraph = [];
    const flush = () => {
      if (paragraph.length) {
        const p = el("p");
        paragraph.forEach((line, n) => {
          if (n) p.append(el("br"));
          inline(line, p);
        });
        root.append(p);
        paragraph = [];
      }
    };
    while (i < lines.length) {
      const line = lines[i];
      const fence = line.match(/^\s*(```|~~~)\s*([\w+-]*)/);
      if (fence) {
        flush();
        const body = [];
        i += 1;
        while (i < lines.length && !lines[i].trim().startsWith(fence[1])) body.push(lines[i++]);
        i += 1;
        const code = el("code", { text: body.join("\n") });
        if (fence[2]) code.dataset.language = fence[2];
        root.append(el("pre", {}, [code]));
        continue;
      }
      const heading = line.match(/^(#{1,6})\s+(.*)$/);
      if (heading) {
        flush();
        const h = el(`h${Math.min(heading[1].length + 1, 4)}`);
        inline(heading[2], h);
        root.append(h);
        i += 1;
        continue;
      }
      const item = line.match(/^\s*([-*+]|\d+[.)])\s+(.*)$/);
      if (item) {
        flush();
        const ordered = /\d/.test(item[1]);
        const list = el(ordered ? "ol" : "ul");
        while (i < lines.length) {
          const next = lines[i].match(/^\s*([-*+]|\d+[.)])\s+(.*)$/);
          if (!next || /\d/.test(next[1]) !== ordered) break;
          const li = el("li");
          inline(next[2], li);
          list.append(li);
          i += 1;
        }
        root.append(list);
        continue;
      }
      if (/^\s*>/.test(line)) {
        flush();
        const quote = el("blockquote");
        const quoted = [];
        while (i < lines.length && /^\s*>/.test(lines[i])) quoted.push(lines[i++].replace(/^\s*>\s?/, ""));
        quote.append(markdown(quoted.join("\n")));
        root.append(quote);
        continue;
      }
      if (!line.trim()) flush();
      else paragraph.push(line);
      i += 1;
    }
    flush();
    return root;
  }

  // ---- what the log shows --------------------------------------------------

  function showEmpty(empty) {
    view.empty.hidden = !empty;
  }

  function userText(content) {
    if (typeof content === "string") return { text: content, images: [] };
    const text = content.filter((p) => p.type === "text").map((p) => p.text).join("\n");
    const images = content
      .filter((p) => p.type === "image" && p.source)
      .map((p) => (p.source.type === "data" ? `data:${p.source.mimeType};base64,${p.source.value}` : p.source.value));
    return { text, images };
  }

  function addUser(message) {
    if (chat.shown.has(message.id)) return;
    chat.shown.add(message.id);
    showEmpty(false);
    const { text, images } = userText(message.content);
    const bubble = el("div", { class: "bubble" });
    if (text) bubble.append(text);
    if (images.length) {
      const strip = el("div", { class: "user-images" });
      for (const src of images) {
        if (/^(data:image\/|https?:)/.test(src)) strip.append(el("img", { src, alt: "Attached image" }));
      }
      bubble.append(strip);
    }
    view.messages.append(el("article", { class: "message", dataset: { role: "user" }, "aria-label": "You" }, [bubble]));
    scrollDown();
  }

  function assistantBubble(id) {
    let entry = chat.bubbles.get(id);
    if (!entry) {
      showEmpty(false);
      const bubble = el("div", { class: "bubble" });
      const avatar = el("img", { class: "avatar", src: `${endpoint}/web/icon.svg`, alt: "" });
      const element = el("article", { class: "message", dataset: { role: "assistant" }, "aria-label": "Assistant" }, [avatar, bubble]);
      view.messages.append(element);
      entry = { element, bubble, text: "", frame: 0 };
      chat.bubbles.set(id, entry);
      chat.shown.add(id);
    }
    return entry;
  }

  function setAssistantText(id, text, streaming) {
    const entry = assistantBubble(id);
    entry.text = text;
    entry.element.dataset.streaming = streaming ? "true" : "false";
    if (!entry.frame) {
      entry.frame = requestAnimationFrame(() => {
        entry.frame = 0;
        entry.bubble.replaceChildren(markdown(entry.text));
        scrollDown();
      });
    }
  }

  function toolCard(id, name) {
    let entry = chat.tools.get(id);
    if (!entry) {
      showEmpty(false);
      const args = el("pre", { class: "tool-args" });
      const result = el("pre", { class: "tool-result", text: "…" });
      const state = el("span", { class: "tool-state", text: "running" });
      const element = el("details", { class: "tool-call", dataset: { state: "running", tool: name } }, [
        el("summary", {}, [el("span", { text: "Tool" }), el("span", { class: "tool-name", text: name }), state]),
        el("div", { class: "tool-body" }, [el("h3", { text: "Arguments" }), args, el("h3", { text: "Result" }), result]),
      ]);
      view.messages.append(element);
      entry = { element, args, result, state, text: "" };
      chat.tools.set(id, entry);
      chat.shown.add(id);
      scrollDown();
    }
    return entry;
  }

  function toolResult(callId, content, messageId) {
    const entry = chat.tools.get(callId) || toolCard(callId, "tool");
    entry.result.textContent = pretty(typeof content === "string" ? content : JSON.stringify(content));
    entry.state.textContent = "done";
    entry.element.dataset.state = "done";
    if (messageId) chat.shown.add(messageId);
  }

  function showError(message) {
    showEmpty(false);
    view.messages.append(
      el("div", { class: "error", role: "alert" }, [el("strong", { text: "Something went wrong" }), el("span", { text: message })]),
    );
    scrollDown();
  }

  function showNote(text) {
    view.messages.append(el("p", { class: "note", text }));
    scrollDown();
  }

  function showInterrupts(interrupts) {
    for (const interrupt of interrupts) {
      const request = interrupt.metadata && interrupt.metadata.request;
      const answer = el("input", { type: "text", "aria-label": "Answer (JSON or text)", placeholder: "Answer (JSON or text)" });
      const card = el("div", { class: "interrupt", role: "group", "aria-label": "The agent asks for an answer" }, [
        el("p", { text: interrupt.message || "The agent needs an answer to go on." }),
        request ? el("pre", { text: JSON.stringify(request.data, null, 2) }) : null,
      ]);
      const respond = (payload) => {
        card.remove();
        resume([{ interruptId: interrupt.id, status: "resolved", payload }]);
      };
      const approve = el("button", { type: "button", class: "send", text: "Approve" });
      const reject = el("button", { type: "button", class: "stop", text: "Reject" });
      const submit = el("button", { type: "button", class: "stop", text: "Send answer" });
      approve.addEventListener("click", () => respond(true));
      reject.addEventListener("click", () => respond(false));
      submit.addEventListener("click", () => {
        let payload = answer.value;
        try {
          payload = JSON.parse(answer.value);
        } catch {
          /* sent as text */
        }
        respond(payload);
      });
      card.append(el("div", { class: "answer-row" }, [approve, reject, answer, submit]));
      view.messages.append(card);
      scrollDown();
    }
  }

  function showMessages(messages) {
    for (const message of messages) {
      if (chat.shown.has(message.id)) continue;
      if (message.role === "user") addUser(message);
      else if (message.role === "assistant") {
        if (message.content) setAssistantText(message.id, message.content, false);
        for (const call of message.toolCalls || []) {
          const card = toolCard(call.id, call.function.name);
          card.args.textContent = pretty(call.function.arguments);
        }
        chat.shown.add(message.id);
      } else if (message.role === "tool") toolResult(message.toolCallId, message.content, message.id);
    }
  }

  // ---- the event stream ----------------------------------------------------

  function apply(event) {
    switch (event.type) {
      case "RUN_STARTED":
        showMessages((event.input && event.input.messages) || []);
        setStatus("Thinking…");
        break;
      case "TEXT_MESSAGE_START":
        assistantBubble(event.messageId).element.dataset.streaming = "true";
        setStatus("Writing…");
        break;
      case "TEXT_MESSAGE_CONTENT": {
        const entry = assistantBubble(event.messageId);
        setAssistantText(event.messageId, entry.text + event.delta, true);
        break;
      }
      case "TEXT_MESSAGE_END":
        setAssistantText(event.messageId, assistantBubble(event.messageId).text, false);
        break;
      case "TOOL_CALL_START":
        toolCard(event.toolCallId, event.toolCallName);
        setStatus(`Using ${event.toolCallName}…`);
        break;
      case "TOOL_CALL_ARGS": {
        const card = toolCard(event.toolCallId, "tool");
        card.text += event.delta;
        card.args.textContent = card.text;
        break;
      }
      case "TOOL_CALL_END": {
        const card = chat.tools.get(event.toolCallId);
        if (card) card.args.textContent = pretty(card.text);
        break;
      }
      case "TOOL_CALL_RESULT":
        toolResult(event.toolCallId, event.content, event.messageId);
        break;
      case "MESSAGES_SNAPSHOT":
        for (const message of event.messages) {
          if (message.role === "assistant" && message.content && chat.bubbles.has(message.id)) {
            setAssistantText(message.id, message.content, false);
          }
        }
        showMessages(event.messages);
        break;
      case "CUSTOM":
        if (event.name === "media" && event.value && /^(data:image\/|https?:)/.test(event.value.uri || "")) {
          view.messages.append(el("div", { class: "media" }, [el("img", { src: event.value.uri, alt: "Image from the agent" })]));
        }
        break;
      case "RUN_FINISHED": {
        const outcome = event.outcome || { type: "success" };
        if (outcome.type === "interrupt") showInterrupts(outcome.interrupts);
        else if (outcome.type === "cancelled") showNote("Stopped.");
        else if (outcome.pendingToolCallIds && outcome.pendingToolCallIds.length) {
          showNote("The agent called a tool this page does not provide.");
        }
        break;
      }
      case "RUN_ERROR":
        showError(event.message || "The run failed.");
        break;
      default:
        break;
    }
  }

  async function readEvents(response) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    let ended = false;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let cut;
      while ((cut = buffer.search(/\r?\n\r?\n/)) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut).replace(/^\r?\n\r?\n/, "");
        let id = null;
        const data = [];
        for (const line of block.split(/\r?\n/)) {
          if (line.startsWith("id:")) id = line.slice(3).trim();
          else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
        }
        if (!data.length) continue;
        const event = JSON.parse(data.join("\n"));
        if (id !== null) chat.lastEventId = Number(id);
        apply(event);
        if (event.type === "RUN_FINISHED" || event.type === "RUN_ERROR") ended = true;
      }
    }
    return ended;
  }

  async function failure(response) {
    let message = `The server answered ${response.status}.`;
    try {
      const body = await response.json();
      if (body && body.message) message = body.message;
    } catch {
      /* not JSON */
    }
    return message;
  }

  function running(on) {
    view.send.disabled = on;
    view.stop.hidden = !on;
    if (!on) {
      setStatus("");
      for (const entry of chat.bubbles.values()) entry.element.dataset.streaming = "false";
    }
  }

  // Follows a response of events; reconnects with Last-Event-ID if the stream drops early.
  async function follow(firstResponse) {
    let response = firstResponse;
    for (let attempt = 0; attempt < 8; attempt += 1) {
      try {
        if (await readEvents(response)) return;
      } catch (error) {
        if (error.name === "AbortError") return;
      }
      setStatus("Reconnecting…");
      await new Promise((resolve) => setTimeout(resolve, Math.min(500 * 2 ** attempt, 5000)));
      try {
        response = await fetch(`${endpoint}/runs/${encodeURIComponent(chat.runId)}`, {
          headers: headers({ Accept: "text/event-stream", "Last-Event-ID": String(chat.lastEventId) }),
          signal: chat.controller.signal,
        });
      } catch (error) {
        if (error.name === "AbortError") return;
        continue;
      }
      if (!response.ok) {
        showError(await failure(response));
        return;
      }
    }
    showError("The connection to the server was lost.");
  }

  async function start(body, retry) {
    chat.controller = new AbortController();
    chat.runId = body.runId;
    chat.lastEventId = -1;
    running(true);
    setStatus("Sending…");
    try {
      const response = await fetch(endpoint, {
        method: "POST",
        headers: headers({ "Content-Type": "application/json", Accept: "text/event-stream" }),
        body: JSON.stringify(body),
        signal: chat.controller.signal,
      });
      if (response.status === 401) {
        askForKey(await failure(response), retry);
        return;
      }
      if (!response.ok) {
        showError(await failure(response));
        return;
      }
      await follow(response);
    } catch (error) {
      if (error.name !== "AbortError") showError("The server could not be reached.");
    } finally {
      running(false);
      loadThreads();
    }
  }

  function runInput(messages, extra = {}) {
    return { threadId: chat.threadId, runId: newId(), state: {}, messages, tools: [], context: [], forwardedProps: {}, ...extra };
  }

  function sendMessage() {
    const text = view.text.value.trim();
    if ((!text && !chat.pending.length) || !view.stop.hidden) return;
    if (!chat.threadId) setThread(newId());
    const parts = chat.pending.map((image) => ({ type: "image", source: { type: "data", value: image.data, mimeType: image.mimeType } }));
    const message = { id: newId(), role: "user", content: parts.length ? [{ type: "text", text }, ...parts] : text };
    if (parts.length && !text) message.content.shift();
    view.text.value = "";
    autosize();
    clearAttachments();
    addUser(message);
    if (view.title.textContent === "New conversation" && text) view.title.textContent = text.slice(0, 80);
    // The server keeps the thread: a run sends only what it adds.
    const body = runInput([message]);
    start(body, () => start({ ...body, runId: newId() }));
  }

  function resume(entries) {
    const body = runInput([], { resume: entries });
    start(body, () => start({ ...body, runId: newId() }));
  }

  // ---- threads -------------------------------------------------------------

  function setThread(threadId) {
    chat.threadId = threadId;
    localStorage.setItem(LAST_THREAD, threadId);
    history.replaceState(null, "", `#thread=${encodeURIComponent(threadId)}`);
    for (const button of view.threads.querySelectorAll("button")) {
      button.setAttribute("aria-current", String(button.dataset.thread === threadId));
    }
  }

  function clearView() {
    if (chat.controller) chat.controller.abort();
    for (const node of [...view.messages.children]) if (node !== view.empty) node.remove();
    chat.shown.clear();
    chat.bubbles.clear();
    chat.tools.clear();
    showEmpty(true);
    running(false);
  }

  function newThread() {
    clearView();
    chat.threadId = null;
    localStorage.removeItem(LAST_THREAD);
    history.replaceState(null, "", location.pathname + location.search);
    view.title.textContent = "New conversation";
    for (const button of view.threads.querySelectorAll("button")) button.setAttribute("aria-current", "false");
    view.text.focus();
  }

  async function openThread(threadId) {
    clearView();
    setThread(threadId);
    let response;
    try {
      response = await fetch(`${endpoint}/threads/${encodeURIComponent(threadId)}`, { headers: headers() });
    } catch {
      showError("The server could not be reached.");
      return;
    }
    if (response.status === 401) {
      askForKey(await failure(response), () => openThread(threadId));
      return;
    }
    if (response.status === 404) {
      view.title.textContent = "New conversation";
      return;
    }
    if (!response.ok) {
      showError(await failure(response));
      return;
    }
    const thread = await response.json();
    view.title.textContent = thread.title || "Conversation";
    showMessages(thread.messages);
    if (thread.runIds.length) {
      // A reply still being written (the page was reloaded): replay it and follow it.
      chat.runId = thread.runIds[0];
      chat.lastEventId = -1;
      chat.controller = new AbortController();
      running(true);
      try {
        const stream = await fetch(`${endpoint}/runs/${encodeURIComponent(chat.runId)}`, {
          headers: headers({ Accept: "text/event-stream" }),
          signal: chat.controller.signal,
        });
        if (stream.ok) await follow(stream);
      } finally {
        running(false);
      }
    } else if (thread.interrupts.length) showInterrupts(thread.interrupts);
  }

  async function loadThreads() {
    let response;
    try {
      response = await fetch(`${endpoint}/threads`, { headers: headers() });
    } catch {
      return;
    }
    if (response.status === 401) {
      askForKey(await failure(response), () => boot());
      return;
    }
    if (!response.ok) return;
    const { threads } = await response.json();
    view.threads.replaceChildren();
    if (!threads.length) view.threads.append(el("li", { class: "threads-empty", text: "No conversations yet" }));
    for (const thread of threads) {
      const button = el("button", {
        type: "button",
        text: thread.title || "Untitled",
        title: thread.title || "Untitled",
        dataset: { thread: thread.threadId },
        "aria-current": String(thread.threadId === chat.threadId),
      });
      if (thread.runIds.length) button.classList.add("running");
      button.addEventListener("click", () => openThread(thread.threadId));
      view.threads.append(el("li", {}, [button]));
    }
  }

  // ---- the key -------------------------------------------------------------

  function askForKey(reason, retry) {
    chat.retryAfterKey = retry;
    view.keyReason.textContent = `${reason} Enter the API key for this server; it is kept in this browser only.`;
    view.keyInput.value = localStorage.getItem(KEY) || "";
    if (!view.keyDialog.open) view.keyDialog.showModal();
    view.keyInput.focus();
  }

  $("key-form").addEventListener("submit", () => {
    const key = view.keyInput.value.trim();
    if (key) localStorage.setItem(KEY, key);
    const retry = chat.retryAfterKey;
    chat.retryAfterKey = null;
    if (retry) retry();
    else loadThreads();
  });
  $("key-forget").addEventListener("click", () => {
    localStorage.removeItem(KEY);
    view.keyInput.value = "";
    view.keyDialog.close();
  });
  $("key-button").addEventListener("click", () => askForKey("", null));

  // ---- the composer --------------------------------------------------------

  function autosize() {
    view.text.style.height = "auto";
    view.text.style.height = `${Math.min(view.text.scrollHeight, 220)}px`;
  }

  function clearAttachments() {
    for (const image of chat.pending) URL.revokeObjectURL(image.url);
    chat.pending = [];
    view.attachments.replaceChildren();
  }

  function readImage(file) {
    return new Promise((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => resolve(String(reader.result).split(",", 2)[1]);
      reader.onerror = () => reject(reader.error);
      reader.readAsDataURL(file);
    });
  }

  view.attach.addEventListener("change", async () => {
    for (const file of view.attach.files) {
      if (!file.type.startsWith("image/")) continue;
      const image = { mimeType: file.type, data: await readImage(file), url: URL.createObjectURL(file) };
      chat.pending.push(image);
      const remove = el("button", { type: "button", text: "×", "aria-label": `Remove ${file.name}` });
      const item = el("li", {}, [el("img", { src: image.url, alt: file.name }), remove]);
      remove.addEventListener("click", () => {
        chat.pending = chat.pending.filter((other) => other !== image);
        URL.revokeObjectURL(image.url);
        item.remove();
      });
      view.attachments.append(item);
    }
    view.attach.value = "";
    view.text.focus();
  });

  view.form.addEventListener("submit", (event) => {
    event.preventDefault();
    sendMessage();
  });
  view.text.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      sendMessage();
    }
  });
  view.text.addEventListener("input", autosize);
  view.stop.addEventListener("click", () => {
    if (!chat.runId) return;
    fetch(`${endpoint}/runs/${encodeURIComponent(chat.runId)}/cancel`, { method: "POST", headers: headers() });
  });
  $("new-thread").addEventListener("click", newThread);

  // ---- start ---------------------------------------------------------------

  function boot() {
    const fromHash = new URLSearchParams(location.hash.slice(1)).get("thread");
    const threadId = fromHash || localStorage.getItem(LAST_THREAD);
    loadThreads();
    if (threadId) openThread(threadId);
    else view.text.focus();
  }

  boot();
})();
