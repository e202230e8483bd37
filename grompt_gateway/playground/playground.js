// Grompt playground: lists /v1/providers, streams /v1/generate with EventSource (GET) or fetch (POST),
// and shows chunks, timing, usage and errors. No framework, no build step; model output only ever
// reaches the page through textContent.
"use strict";

(() => {
  const PROVIDER_NAMES = { openai: "OpenAI", anthropic: "Anthropic", gemini: "Gemini" };
  const KEY_VARIABLES = { openai: "OPENAI_API_KEY", anthropic: "ANTHROPIC_API_KEY", gemini: "GEMINI_API_KEY" };
  const MAX_STOP_SEQUENCES = 4;

  const $ = (id) => document.getElementById(id);
  const ui = {
    form: $("prompt-form"), provider: $("provider"), model: $("model"), providerHint: $("provider-hint"),
    system: $("system"), user: $("user"), temperature: $("temperature"), topP: $("topP"),
    maxTokens: $("maxTokens"), stop: $("stop"), token: $("token"), formError: $("form-error"), run: $("run"),
    stopButton: $("stop-button"), answer: $("answer"), runState: $("run-state"), errorBox: $("error-box"),
    ttfc: $("ttfc"), elapsed: $("elapsed"), chunks: $("chunks"), finish: $("finish"), usage: $("usage"),
    servedBy: $("served-by"), requestId: $("request-id"), demoBanner: $("demo-banner"),
    budgetBox: $("budget-box"), budget: $("budget"),
    gatewayState: $("gateway-state"),
  };

  let catalogue = { providers: [], default: null };
  let active = null; // the run in progress: { close, startedAt, firstChunkAt, chunkCount, timer }

  // ---- providers -------------------------------------------------------------------------------

  async function loadProviders() {
    try {
      const response = await fetch("/v1/providers", { headers: { Accept: "application/json" } });
      const body = await response.json();
      if (!response.ok) throw new Error(describeError(response.status, body));
      catalogue = body;
      fillProviders();
      const demo = body.demo ?? (await fetchHealthDemo());
      showGatewayState(demo);
    } catch (error) {
      ui.gatewayState.textContent = `Gateway unreachable: ${error.message}`;
      ui.gatewayState.dataset.state = "error";
    }
  }

  async function fetchHealthDemo() {
    try {
      const response = await fetch("/v1/health");
      return response.ok ? Boolean((await response.json()).demo) : false;
    } catch {
      return false;
    }
  }

  function showGatewayState(demo) {
    const ready = catalogue.providers.filter((p) => p.configured).length;
    ui.demoBanner.hidden = !demo;
    document.body.classList.toggle("is-demo", Boolean(demo));
    ui.gatewayState.dataset.state = ready ? "ok" : "warn";
    ui.gatewayState.textContent = demo
      ? "Demo mode · mock LLM"
      : `${ready} of ${catalogue.providers.length} providers configured`;
  }

  function fillProviders() {
    ui.provider.replaceChildren(...catalogue.providers.map((p) => {
      const name = PROVIDER_NAMES[p.id] ?? p.id;
      return new Option(p.configured ? name : `${name} (not configured)`, p.id);
    }));
    const wanted = catalogue.default?.provider;
    // The default provider, unless it has no key and another one has.
    const usable = catalogue.providers.filter((p) => p.configured);
    const choice = usable.some((p) => p.id === wanted) || usable.length === 0 ? wanted : usable[0].id;
    ui.provider.value = catalogue.providers.some((p) => p.id === choice) ? choice : catalogue.providers[0]?.id ?? "";
    ui.provider.disabled = false;
    fillModels();
  }

  function fillModels() {
    const provider = catalogue.providers.find((p) => p.id === ui.provider.value);
    const models = provider?.models ?? [];
    ui.model.replaceChildren(...models.map((m) => new Option(m, m)));
    if (catalogue.default?.provider === provider?.id && models.includes(catalogue.default.model)) {
      ui.model.value = catalogue.default.model;
    }
    ui.model.disabled = models.length === 0;
    ui.providerHint.textContent = provider && !provider.configured
      ? `No API key is set for ${PROVIDER_NAMES[provider.id] ?? provider.id}: the gateway will answer ` +
        `503 provider_not_configured. Set ${KEY_VARIABLES[provider.id] ?? "its key"}, or start the gateway with --demo.`
      : "";
  }

  // ---- the bearer token --------------------------------------------------------------------------

  // The token lives in the input only (no localStorage, no cookie): a reload forgets it.
  function authHeaders() {
    const token = ui.token.value.trim();
    return token ? { Authorization: `Bearer ${token}` } : {};
  }

  // EventSource cannot send headers: with a token, the fetch transport is the only one that can carry it.
  function syncTransport() {
    const hasToken = ui.token.value.trim() !== "";
    const eventSource = ui.form.querySelector('input[name="mode"][value="eventsource"]');
    eventSource.disabled = hasToken;
    if (hasToken) ui.form.elements.mode.value = "fetch";
  }

  // ---- the form ----------------------------------------------------------------------------------

  function readNumber(input, { min, max, integer = false }) {
    const raw = input.value.trim();
    input.removeAttribute("aria-invalid");
    if (raw === "") return undefined;
    const value = Number(raw);
    const bad = !Number.isFinite(value) || value < min || (max !== undefined && value > max)
      || (integer && !Number.isInteger(value));
    if (bad) {
      input.setAttribute("aria-invalid", "true");
      const range = max === undefined ? `at least ${min}` : `between ${min} and ${max}`;
      throw new FormError(input, `${input.labels[0].textContent} must be ${integer ? "a whole number " : ""}${range}.`);
    }
    return value;
  }

  class FormError extends Error {
    constructor(input, message) {
      super(message);
      this.input = input;
    }
  }

  function readForm() {
    ui.user.removeAttribute("aria-invalid");
    const user = ui.user.value;
    if (user.trim() === "") {
      ui.user.setAttribute("aria-invalid", "true");
      throw new FormError(ui.user, "Write a user prompt first.");
    }
    const stop = ui.stop.value.split(/\r?\n/).filter((line) => line !== "");
    if (stop.length > MAX_STOP_SEQUENCES) {
      throw new FormError(ui.stop, `At most ${MAX_STOP_SEQUENCES} stop sequences.`);
    }
    return {
      provider: ui.provider.value || undefined,
      model: ui.model.value || undefined,
      system: ui.system.value.trim() === "" ? undefined : ui.system.value,
      user,
      temperature: readNumber(ui.temperature, { min: 0, max: 2 }),
      topP: readNumber(ui.topP, { min: 0, max: 1 }),
      maxTokens: readNumber(ui.maxTokens, { min: 1, integer: true }),
      stop,
    };
  }

  function streamQuery(input) {
    const query = new URLSearchParams();
    for (const name of ["provider", "model", "system", "user", "temperature", "topP", "maxTokens"]) {
      if (input[name] !== undefined) query.append(name, String(input[name]));
    }
    for (const sequence of input.stop) query.append("stop", sequence); // docs/api.md: `stop` may repeat
    return query;
  }

  function generateBody(input) {
    const options = { temperature: input.temperature, topP: input.topP, maxTokens: input.maxTokens };
    if (input.stop.length) options.stopSequences = input.stop;
    return {
      provider: input.provider, model: input.model, system: input.system, user: input.user,
      options, stream: true,
    };
  }

  // ---- a run -------------------------------------------------------------------------------------

  function start(event) {
    event.preventDefault();
    if (active) return;
    let input;
    try {
      input = readForm();
      ui.formError.textContent = "";
    } catch (error) {
      if (!(error instanceof FormError)) throw error;
      ui.formError.textContent = error.message;
      error.input.focus();
      return;
    }
    const run = { close: () => {}, startedAt: performance.now(), firstChunkAt: null, chunkCount: 0, timer: 0 };
    active = run;
    resetOutput();
    setRunning(true);
    run.timer = setInterval(() => { ui.elapsed.textContent = formatMs(performance.now() - run.startedAt); }, 100);
    // On a phone the answer sits below the form: bring it into view.
    if (ui.answer.getBoundingClientRect().top > window.innerHeight) {
      ui.answer.scrollIntoView({ block: "center", behavior: reducedMotion() ? "auto" : "smooth" });
    }
    const mode = ui.form.elements.mode.value;
    if (mode === "fetch" || ui.token.value.trim() !== "") streamWithFetch(run, input);
    else streamWithEventSource(run, input);
  }

  function finish(run, outcome, message) {
    if (run !== active) return;
    active = null;
    run.close();
    clearInterval(run.timer);
    ui.elapsed.textContent = formatMs(performance.now() - run.startedAt);
    if (message) showError(message);
    if (run.chunkCount === 0 && outcome !== "done") ui.answer.textContent = "";
    const labels = { done: "Done", stopped: "Stopped", error: "Failed" };
    setState(outcome, labels[outcome]);
    setRunning(false);
    // A stopped stream is settled as the gateway sees the connection close, a moment after this.
    setTimeout(loadBudget, outcome === "stopped" ? 300 : 0);
  }

  function onEvent(run, data) {
    if (run !== active) return;
    let event;
    try {
      event = JSON.parse(data);
    } catch {
      finish(run, "error", "The gateway sent an event that is not JSON.");
      return;
    }
    if (event.type === "start") {
      ui.servedBy.textContent = `${PROVIDER_NAMES[event.provider] ?? event.provider} · ${event.model}`;
      ui.requestId.textContent = event.requestId ?? "–";
    } else if (event.type === "chunk") {
      onChunk(run, String(event.text ?? ""));
    } else if (event.type === "done") {
      ui.finish.textContent = event.finishReason ?? "–";
      const usage = event.usage;
      ui.usage.textContent = usage ? `${usage.prompt} · ${usage.completion} · ${usage.total}` : "not reported";
      finish(run, "done");
    } else if (event.type === "error") {
      finish(run, "error", describeError(event.status, event));
    }
  }

  function onChunk(run, text) {
    if (run.firstChunkAt === null) {
      run.firstChunkAt = performance.now();
      ui.ttfc.textContent = formatMs(run.firstChunkAt - run.startedAt);
      ui.answer.textContent = "";
    }
    run.chunkCount += 1;
    ui.chunks.textContent = String(run.chunkCount);
    ui.answer.textContent += text;
    ui.answer.scrollTop = ui.answer.scrollHeight;
  }

  // EventSource: the gateway answers a reconnect with 204, but closing on done/error means the browser
  // never even tries (docs/api.md § The event stream).
  function streamWithEventSource(run, input) {
    const url = `/v1/generate/stream?${streamQuery(input)}`;
    const source = new EventSource(url);
    let opened = false;
    run.close = () => source.close();
    source.onopen = () => { opened = true; };
    source.onmessage = (message) => onEvent(run, message.data);
    source.onerror = () => {
      source.close();
      if (run !== active) return;
      if (opened) finish(run, "error", "The stream broke before it finished.");
      else explainRefusal(run, url);
    };
  }

  // EventSource hides the status and body of a refused request; ask once more to show the JSON error.
  async function explainRefusal(run, url) {
    const controller = new AbortController();
    run.close = () => controller.abort();
    try {
      const response = await fetch(url, { signal: controller.signal, headers: { Accept: "application/json" } });
      if (isEventStream(response)) {
        controller.abort();
        finish(run, "error", "The stream could not be opened; try again.");
      } else {
        finish(run, "error", describeError(response.status, await readJson(response)));
      }
    } catch (error) {
      if (error.name !== "AbortError") finish(run, "error", `Could not reach the gateway (${error.message}).`);
    }
  }

  async function streamWithFetch(run, input) {
    const controller = new AbortController();
    run.close = () => controller.abort();
    try {
      const response = await fetch("/v1/generate", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "text/event-stream", ...authHeaders() },
        body: JSON.stringify(generateBody(input)),
        signal: controller.signal,
      });
      if (!response.ok || !isEventStream(response)) {
        finish(run, "error", describeError(response.status, await readJson(response)));
        return;
      }
      await readEvents(response.body, (data) => onEvent(run, data), () => run !== active);
      finish(run, "error", "The stream ended before its done event.");
    } catch (error) {
      if (error.name !== "AbortError") finish(run, "error", `The request failed (${error.message}).`);
    }
  }

  // The text/event-stream format (HTML Living Standard § 9.2.6): events end at a blank line; only
  // `data:` fields matter here, since the gateway sends no `event:` names.
  async function readEvents(body, dispatch, cancelled) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    try {
      while (!cancelled()) {
        const { value, done } = await reader.read();
        if (done) return;
        const blocks = (buffer + value).split(/\r\n\r\n|\n\n|\r\r/);
        buffer = blocks.pop();
        for (const block of blocks) {
          const data = block.split(/\r\n|\n|\r/).filter((line) => line.startsWith("data:"))
            .map((line) => line.slice(line.startsWith("data: ") ? 6 : 5));
          if (data.length) dispatch(data.join("\n"));
          if (cancelled()) return;
        }
      }
    } finally {
      reader.cancel().catch(() => {});
    }
  }

  function stop() {
    if (active) finish(active, "stopped");
  }

  // ---- token budget ----------------------------------------------------------------------------------

  // The caller's budget windows, next to the token counts; hidden when the gateway has no budgets.
  async function loadBudget() {
    try {
      const response = await fetch("/v1/budget", { headers: { Accept: "application/json", ...authHeaders() } });
      // Not ok (e.g. a token the gateway refuses): no figures rather than another caller's.
      showBudget(response.ok ? (await response.json()).windows ?? [] : []);
    } catch {
      // A failed look-up leaves the last figures on screen: the run itself is what matters here.
    }
  }

  function showBudget(windows) {
    const count = (n) => Number(n).toLocaleString("en");
    ui.budgetBox.hidden = windows.length === 0;
    ui.budget.textContent = windows.map((w) => {
      const held = w.reserved ? ` (+${count(w.reserved)} held)` : "";
      return `${count(w.used)}${held} / ${count(w.limit)} per ${w.window}`;
    }).join(" · ");
    ui.budget.title = windows.map((w) => `${w.window}: starts afresh in ${w.resetS} s`).join(", ");
  }

  // ---- rendering ---------------------------------------------------------------------------------

  function resetOutput() {
    ui.answer.textContent = "";
    ui.errorBox.hidden = true;
    ui.errorBox.textContent = "";
    for (const field of [ui.ttfc, ui.elapsed, ui.chunks, ui.finish, ui.usage, ui.servedBy, ui.requestId]) {
      field.textContent = "–";
    }
    setState("streaming", "Streaming…");
  }

  function setRunning(running) {
    const hadFocus = document.activeElement;
    ui.run.disabled = running;
    ui.stopButton.disabled = !running;
    ui.answer.setAttribute("aria-busy", String(running));
    ui.form.classList.toggle("is-running", running);
    // Keep keyboard users where they were: the button they pressed just became disabled.
    if (running && hadFocus === ui.run) ui.stopButton.focus();
    if (!running && hadFocus === ui.stopButton) ui.run.focus();
  }

  function setState(state, label) {
    ui.answer.dataset.state = state;
    ui.runState.dataset.state = state;
    ui.runState.textContent = label;
  }

  function showError(message) {
    ui.errorBox.textContent = message;
    ui.errorBox.hidden = false;
  }

  function describeError(status, body) {
    const error = body?.error;
    const code = error?.code ? ` ${error.code}` : "";
    const text = error?.message ?? "the gateway answered without details";
    const requestId = body?.requestId ? ` (request ${body.requestId})` : "";
    return `HTTP ${status ?? "?"}${code}: ${text}${requestId}`;
  }

  async function readJson(response) {
    try {
      return await response.json();
    } catch {
      return null;
    }
  }

  function isEventStream(response) {
    return (response.headers.get("Content-Type") ?? "").startsWith("text/event-stream");
  }

  function reducedMotion() {
    return window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  }

  function formatMs(ms) {
    return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
  }

  // ---- wiring --------------------------------------------------------------------------------------

  ui.form.addEventListener("submit", start);
  ui.stopButton.addEventListener("click", stop);
  ui.provider.addEventListener("change", fillModels);
  ui.token.addEventListener("input", syncTransport);
  ui.token.addEventListener("change", loadBudget); // another token may be another caller, with its own budget
  ui.form.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      ui.form.requestSubmit();
    }
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && active) {
      event.preventDefault();
      stop();
    }
  });
  window.addEventListener("pagehide", stop);
  loadProviders();
  loadBudget();
})();
