// Progressive enhancement only: every page works without this file.
"use strict";

// GB 32100-2015: 18 characters from this set (no I, O, S, V, Z); the 18th is a check character.
const CREDIT_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY";

function creditCodeProblem(raw) {
  const code = raw.replace(/\s+/g, "").toUpperCase();
  if (code.length === 0) return null;
  const bad = [...new Set([...code].filter((c) => !CREDIT_CHARSET.includes(c)))].sort();
  if (bad.length) return { key: "characters", chars: bad.join(", ") };
  if (code.length !== 18) return { key: "length", count: String(code.length) };
  if (!/^\d{6}$/.test(code.slice(2, 8))) return { key: "region" };
  let total = 0;
  for (let i = 0; i < 17; i++) total += CREDIT_CHARSET.indexOf(code[i]) * (3 ** i % 31);
  const check = CREDIT_CHARSET[(31 - (total % 31)) % 31];
  return code[17] === check ? { key: "ok" } : { key: "checksum" };
}

function liveCreditCode(input) {
  let output = document.getElementById(input.id + "-live");
  if (!output) {
    output = document.createElement("span");
    output.id = input.id + "-live";
    output.className = "live-check";
    output.setAttribute("aria-live", "polite");
    input.insertAdjacentElement("afterend", output);
    const described = (input.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    input.setAttribute("aria-describedby", [...described, output.id].join(" "));
  }
  const check = () => {
    const problem = creditCodeProblem(input.value);
    if (!problem) { output.textContent = ""; output.className = "live-check"; return; }
    const template = input.dataset["msg" + problem.key[0].toUpperCase() + problem.key.slice(1)] || "";
    output.textContent = template.replace("{count}", problem.count || "").replace("{chars}", problem.chars || "");
    output.className = "live-check " + (problem.key === "ok" ? "ok" : "bad");
  };
  input.addEventListener("input", check);
  if (input.value) check();
}

document.addEventListener("DOMContentLoaded", () => {
  // Ask before a destructive action (buttons marked data-confirm).
  for (const button of document.querySelectorAll("[data-confirm]")) {
    button.addEventListener("click", (event) => {
      if (!window.confirm(button.dataset.confirm)) event.preventDefault();
    });
  }
  for (const input of document.querySelectorAll("input[data-credit-code]")) liveCreditCode(input);
  // A secret shown once: a copy button (the text stays selectable without script).
  for (const button of document.querySelectorAll("[data-copy]")) {
    const source = document.getElementById(button.dataset.copy);
    if (!source || !navigator.clipboard) continue;
    button.hidden = false;
    button.addEventListener("click", async () => {
      await navigator.clipboard.writeText(source.textContent.trim());
      button.textContent = button.dataset.copied;
    });
  }
  // Take keyboard and screen-reader users straight to what went wrong.
  const summary = document.querySelector("[data-autofocus]");
  if (summary) summary.focus();
});
