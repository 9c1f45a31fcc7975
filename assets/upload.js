// Upload images from the Gallery tab's card (components/upload_card.py): the chosen files
// are planned by /uploads/plan, then each is sent with its own progress bar, straight to
// S3 (a presigned POST) or to the app (/uploads/file, a local folder); /uploads/done checks
// what arrived and refreshes the listing, and the gallery shows the batch anew.
// The file input and the rows are made here and kept across re-renders of the card.
(function () {
  const AT_ONCE = 3; // files sent at the same time
  let picker = null;
  let list = null;
  let batchTyped = false; // once the person types a batch, it no longer follows the gallery
  let busy = false;
  let scheduled = false;

  function byId(id) { return document.getElementById(id); }
  function project() { const card = byId("upload-card"); return card ? card.dataset.project : ""; }
  function route(path) { return path + "?project=" + encodeURIComponent(project()); }

  function say(text, kind) {
    const status = byId("upload-status");
    if (!status) return;
    status.textContent = text;
    status.className = "small mt-1" + (kind ? " text-" + kind : "");
  }

  function sizeText(bytes) {
    if (bytes < 1024) return bytes + " bytes";
    if (bytes < 1048576) return Math.round(bytes / 1024) + " KB";
    return (bytes / 1048576).toFixed(1).replace(/\.0$/, "") + " MB";
  }

  // A React-controlled input takes a value set from outside only through its input event.
  function setInput(input, value) {
    const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value").set;
    setter.call(input, value);
    input.dispatchEvent(new Event("input", { bubbles: true }));
  }

  // The batch the gallery shows: the address's, else its batch menu's text.
  function galleryBatch() {
    const asked = new URLSearchParams(window.location.search).get("batch");
    if (asked !== null) return asked;
    const menu = byId("gallery-batch");
    const text = menu ? menu.innerText.trim() : "";
    if (!text || text.includes("\n")) return null;
    return text === "(top level)" ? "" : text;
  }

  function followGallery() {
    const input = byId("upload-batch");
    if (!input || batchTyped || busy || document.activeElement === input) return;
    const shown = galleryBatch();
    if (shown !== null && input.value !== shown) setInput(input, shown);
  }

  function attach() {
    scheduled = false;
    const holder = byId("upload-picker");
    if (!holder) return;
    if (!picker) {
      picker = document.createElement("input");
      picker.type = "file";
      picker.multiple = true;
      picker.accept = "image/*";
      picker.id = "upload-files";
      picker.className = "form-control form-control-sm";
      picker.addEventListener("change", chosen);
      list = document.createElement("div");
      list.className = "upload-rows";
    }
    if (picker.parentNode !== holder) holder.appendChild(picker);
    const rows = byId("upload-list");
    if (rows && list.parentNode !== rows) rows.appendChild(list);
    followGallery();
  }

  function schedule() {
    if (!scheduled) { scheduled = true; window.setTimeout(attach, 50); }
  }

  async function answerOf(response) {
    const text = await response.text();
    try { return JSON.parse(text); } catch (error) { return { message: text.trim() || response.statusText }; }
  }

  async function postJson(path, body) {
    const response = await fetch(route(path), {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    const answer = await answerOf(response);
    if (!response.ok) throw new Error(answer.message || ("The server answered " + response.status + "."));
    return answer;
  }

  async function offerBatches() {
    const datalist = byId("upload-batches");
    if (!datalist || !project()) return;
    try {
      const response = await fetch(route("/uploads/batches"));
      if (!response.ok) return;
      const answer = await response.json();
      datalist.replaceChildren(...answer.batches.map(function (name) {
        const option = document.createElement("option");
        option.value = name;
        return option;
      }));
      const hint = byId("upload-hint");
      if (hint && answer.max_bytes) {
        hint.textContent = "JPEG, PNG, TIFF, BMP, WebP or GIF images up to " +
          sizeText(answer.max_bytes) + " each; each is checked when it arrives.";
      }
    } catch (error) { /* the datalist stays as it was; the plan reports real trouble */ }
  }

  function makeRow(name) {
    const row = document.createElement("div");
    row.className = "upload-row d-flex align-items-center mb-1";
    row.dataset.state = "waiting";
    const label = document.createElement("span");
    label.className = "upload-name small text-truncate me-2";
    label.style.width = "14rem";
    label.title = name;
    label.textContent = name;
    const bar = document.createElement("div");
    bar.className = "progress me-2";
    bar.style.width = "12rem";
    bar.style.height = "1rem";
    bar.setAttribute("role", "progressbar");
    bar.setAttribute("aria-label", name);
    bar.setAttribute("aria-valuemin", "0");
    bar.setAttribute("aria-valuemax", "100");
    bar.setAttribute("aria-valuenow", "0");
    const fill = document.createElement("div");
    fill.className = "progress-bar";
    fill.style.width = "0%";
    bar.appendChild(fill);
    const outcome = document.createElement("span");
    outcome.className = "upload-outcome small";
    outcome.textContent = "waiting";
    row.append(label, bar, outcome);
    return { row: row, bar: bar, fill: fill, outcome: outcome };
  }

  function progress(item, percent) {
    const value = Math.max(0, Math.min(100, Math.round(percent)));
    item.bar.setAttribute("aria-valuenow", String(value));
    item.fill.style.width = value + "%";
    item.fill.textContent = value + "%";
  }

  function finish(item, problem, note) {
    item.row.dataset.state = problem ? "refused" : "done";
    item.fill.classList.add(problem ? "bg-danger" : "bg-success");
    if (problem) {
      item.fill.style.width = "100%";
      item.fill.textContent = "";
    }
    item.outcome.className = "upload-outcome small " + (problem ? "text-danger" : "text-success");
    item.outcome.textContent = problem || note || "uploaded";
  }

  // S3 answers a refused POST with XML; its <Message> says why.
  function s3Problem(xhr) {
    const found = /<Message>([^<]*)<\/Message>/.exec(xhr.responseText || "");
    return "S3 refused the file (" + xhr.status + ")" + (found ? ": " + found[1] : ".");
  }

  function send(file, planned, item) {
    return new Promise(function (resolve) {
      const how = planned.upload;
      const xhr = new XMLHttpRequest();
      xhr.open(how.method, how.url);
      item.row.dataset.state = "sending";
      item.outcome.textContent = "sending";
      xhr.upload.addEventListener("progress", function (event) {
        if (event.lengthComputable) progress(item, (100 * event.loaded) / event.total);
      });
      xhr.addEventListener("load", function () {
        if (how.method === "POST") {
          resolve(xhr.status >= 200 && xhr.status < 300
            ? { ok: true, key: planned.key } : { ok: false, problem: s3Problem(xhr) });
          return;
        }
        let answer;
        try { answer = JSON.parse(xhr.responseText); } catch (error) { answer = { message: xhr.responseText }; }
        if (xhr.status === 200 && answer.ok) resolve({ ok: true, key: answer.key });
        else resolve({ ok: false, problem: answer.problem || answer.message || ("Refused (" + xhr.status + ").") });
      });
      xhr.addEventListener("error", function () {
        resolve({ ok: false, problem: "The file could not be sent: the connection failed." });
      });
      if (how.method === "POST") {
        const form = new FormData();
        Object.entries(how.fields).forEach(function (pair) { form.append(pair[0], pair[1]); });
        form.append("file", file);
        xhr.send(form);
      } else {
        xhr.setRequestHeader("Content-Type", file.type || "application/octet-stream");
        xhr.send(file);
      }
    });
  }

  function showBatch(batch) {
    const clientside = window.dash_clientside;
    if (!clientside || !clientside.set_props) return;
    const params = new URLSearchParams(window.location.search);
    params.delete("view");
    if (batch) { params.set("batch", batch); params.delete("page"); }
    const rest = params.toString();
    const search = "?view=gallery" + (rest ? "&" + rest : "");
    if (search !== window.location.search) {
      clientside.set_props("url", { search: search });
    } else {
      clientside.set_props("gallery-ask-store", { data: { search: search, at: Date.now() } });
    }
  }

  async function chosen() {
    const files = Array.from(picker.files || []);
    if (!files.length || busy) return;
    busy = true;
    const input = byId("upload-batch");
    const batch = input ? input.value.trim() : "";
    const choice = document.querySelector("#upload-duplicates input:checked");
    const items = files.map(function (file) { return makeRow(file.name); });
    list.replaceChildren(...items.map(function (item) { return item.row; }));
    say("Checking " + files.length + " file" + (files.length > 1 ? "s" : "") + "…");
    try {
      const plan = await postJson("/uploads/plan", {
        batch: batch,
        duplicates: choice ? choice.value : "refuse",
        files: files.map(function (file) { return { name: file.name, size: file.size, type: file.type }; }),
      });
      const queue = [];
      plan.files.forEach(function (planned, index) {
        if (planned.ok) queue.push(index);
        else finish(items[index], planned.problem);
      });
      const arrived = [];
      const outcomes = {};
      async function worker() {
        while (queue.length) {
          const index = queue.shift();
          const planned = plan.files[index];
          const result = await send(files[index], planned, items[index]);
          outcomes[index] = result;
          if (result.ok) {
            arrived.push(result.key);
            progress(items[index], 100);
            items[index].outcome.textContent = "checking";
          } else {
            finish(items[index], result.problem);
          }
        }
      }
      await Promise.all(Array.from({ length: AT_ONCE }, worker));
      const done = arrived.length
        ? await postJson("/uploads/done", { keys: arrived, token: plan.token }) : { files: [] };
      const checked = {};
      (done.files || []).forEach(function (item) { checked[item.key] = item; });
      let stored = 0;
      Object.keys(outcomes).forEach(function (index) {
        const result = outcomes[index];
        if (!result.ok) return;
        const check = checked[result.key];
        if (check && !check.ok) { finish(items[index], check.problem); return; }
        stored += 1;
        const renamed = result.key.split("/").pop() !== files[index].name;
        finish(items[index], "", renamed ? "uploaded as " + result.key.split("/").pop() : "uploaded");
      });
      const refused = files.length - stored;
      const where = plan.batch ? "batch " + plan.batch : "the top level";
      say(stored + " image" + (stored === 1 ? "" : "s") + " uploaded into " + where +
        (refused ? "; " + refused + " refused (see below)." : "."), refused ? "danger" : "success");
      if (stored) showBatch(plan.batch);
    } catch (error) {
      say(error.message, "danger");
      items.forEach(function (item) {
        const state = item.row.dataset.state;
        if (state !== "done" && state !== "refused") finish(item, error.message);
      });
    } finally {
      busy = false;
      picker.value = ""; // the same files may be chosen again
      offerBatches();
    }
  }

  document.addEventListener("input", function (event) {
    if (event.isTrusted && event.target && event.target.id === "upload-batch") batchTyped = true;
  });
  document.addEventListener("focusin", function (event) {
    if (event.target && event.target.id === "upload-batch") offerBatches();
  });
  document.addEventListener("toggle", function (event) {
    if (event.target && event.target.id === "upload-card" && event.target.open) offerBatches();
  }, true);
  new MutationObserver(schedule).observe(document.documentElement, { childList: true, subtree: true });
})();
