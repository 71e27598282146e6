/**
 * The HTML report (`--format html`): one self-contained page (inline CSS, no script, no network) to attach to a bug
 * report — findings by impact, each chain drawn as a path from the root to the symptom, the culprit method, the
 * commands that verify it, and bar charts (top types, top retainers, a diff's growth).
 */
import type { Finding } from './finding';
import { chainLines, n0, rootLine, type Report, type ReportChart } from './report';

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 12px}h2{font-size:18px;margin:28px 0 10px}h3{font-size:16px;margin:0 0 6px}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:0 0 16px}
dl.facts dt{font-weight:600}dl.facts dd{margin:0;word-break:break-all}
.warn{background:#fff7e0;border:1px solid #f0c36d;border-radius:6px;padding:8px 12px;margin:0 0 16px}
.finding{background:#fff;border:1px solid #d8dce3;border-left:6px solid #888;border-radius:6px;padding:14px 16px;margin:0 0 16px}
.finding.error{border-left-color:#c62828}.finding.warning{border-left-color:#ef8f00}.finding.info{border-left-color:#1e73be}
.sev{display:inline-block;font-size:12px;font-weight:700;text-transform:uppercase;padding:1px 7px;border-radius:9px;
 background:#eee;margin-right:6px}.error .sev{background:#fde0e0;color:#a11}.warning .sev{background:#fff0d6;color:#8a5300}
.info .sev{background:#e0efff;color:#124e8a}
.numbers{display:flex;gap:18px;flex-wrap:wrap;margin:8px 0;color:#444}.numbers b{color:#111}
.culprit{background:#f1f8f1;border:1px solid #9ccc9c;border-radius:6px;padding:8px 12px;margin:8px 0}
.culprit code{font-weight:700}
ol.chain{list-style:none;padding:0;margin:8px 0}
ol.chain li{position:relative;margin:0 0 18px;padding:5px 10px;background:#f3f5f8;border:1px solid #cfd5de;border-radius:5px;
 font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12.5px;word-break:break-all}
ol.chain li:not(:last-child)::after{content:"↓";position:absolute;left:18px;bottom:-18px;color:#777}
ol.chain li.root{background:#e8ecf5}ol.chain li.symptom{background:#fdecea;border-color:#e6a39b}
.field{color:#6a3fa0}.addr{color:#777}
pre{background:#1d2330;color:#e8eaf0;padding:10px 12px;border-radius:6px;overflow-x:auto;font-size:12.5px}
table.bars{border-collapse:collapse;width:100%;background:#fff;border:1px solid #d8dce3}
table.bars td,table.bars th{padding:4px 8px;border-bottom:1px solid #eceef2;text-align:left;font-size:13px}
table.bars td.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
table.bars td.name{word-break:break-all}
.bar{height:12px;background:#4a78c2;border-radius:2px;min-width:1px}.bar.neg{background:#9aa5b5}
footer{color:#666;font-size:12px;margin-top:28px}
`;

/** Renders a report as one self-contained HTML page. */
export function renderHtml(report: Report): string {
  const parts: string[] = [];
  parts.push('<!DOCTYPE html>', '<html lang="en"><head><meta charset="utf-8">', '<meta name="viewport" content="width=device-width, initial-scale=1">');
  parts.push(`<title>${esc(report.title)}</title><style>${STYLE}</style></head><body><main>`);
  parts.push(`<h1>${esc(report.title)}</h1>`);
  parts.push('<dl class="facts">', ...report.facts.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`), '</dl>');
  if (report.warnings.length > 0) parts.push('<div class="warn"><b>Warnings</b><ul>', ...report.warnings.map((w) => `<li>${esc(w)}</li>`), '</ul></div>');
  parts.push(`<h2>Findings (${report.findings.length})</h2>`);
  if (report.findings.length === 0) parts.push(`<p class="none">${esc(report.noFindings)}</p>`);
  report.findings.forEach((f, k) => parts.push(findingHtml(f, k + 1)));
  for (const chart of report.charts) parts.push(chartHtml(chart));
  parts.push(`<footer>Made by dumpsleuth: <code>${esc(report.command)}</code></footer>`, '</main></body></html>');
  return parts.join('\n');
}

function findingHtml(f: Finding, n: number): string {
  const p: string[] = [`<section class="finding ${f.severity}" id="finding-${n}">`];
  p.push(`<h3><span class="sev">${f.severity}</span>${n}. ${esc(f.title)}</h3>`);
  p.push(`<p class="verdict">${esc(f.verdict)}</p>`);
  p.push(`<div class="numbers"><span>Objects <b class="count">${n0(f.objectCount)}</b></span><span>Retained <b>${n0(f.retainedBytes)}</b> bytes</span><span>Confidence <b>${f.confidence}</b></span><span>Rule <b>${esc(f.rule)}</b></span></div>`);
  if (f.culprit) {
    p.push(`<div class="culprit">Culprit: <code class="culprit-method">${esc(f.culprit.method)}</code><br>type <code>${esc(f.culprit.type)}</code>, module <code>${esc(f.culprit.module)}</code><br><i>${esc(f.culprit.evidence)}</i></div>`);
  }
  if (f.chain.length > 0) {
    p.push('<div>Chain (root → symptom):</div><ol class="chain">');
    const root = rootLine(f);
    if (root) p.push(`<li class="root">${esc(root)}</li>`);
    const lines = chainLines(f);
    f.chain.forEach((s, k) => {
      const cls = k === f.chain.length - 1 ? ' class="symptom"' : '';
      const field = s.field !== undefined ? `<span class="field">${s.static === true ? 'static ' : '.'}${esc(s.field)}</span> → ` : '';
      const addr = s.address !== undefined ? ` <span class="addr">0x${s.address.toString(16)}</span>` : '';
      p.push(`<li${cls} title="${esc(lines[k]!)}">${field}${esc(s.type)}${addr}</li>`);
    });
    p.push('</ol>');
  }
  if (f.verify.length > 0) p.push(`<div>Verify:</div><pre>${f.verify.map(esc).join('\n')}</pre>`);
  p.push('</section>');
  return p.join('\n');
}

function chartHtml(chart: ReportChart): string {
  if (chart.bars.length === 0) return '';
  const max = Math.max(...chart.bars.map((b) => Math.abs(b.value)), 1);
  const rows = chart.bars.map((b) => {
    const width = ((100 * Math.abs(b.value)) / max).toFixed(1);
    return `<tr><td class="name">${esc(b.label)}</td><td class="num">${n0(b.value)}</td><td class="num">${esc(b.note)}</td><td style="width:30%"><div class="bar${b.value < 0 ? ' neg' : ''}" style="width:${width}%"></div></td></tr>`;
  });
  return [`<h2>${esc(chart.title)}</h2>`, '<table class="bars">', `<tr><th>${esc(chart.heads[0])}</th><th>${esc(chart.heads[1])}</th><th>${esc(chart.heads[2])}</th><th></th></tr>`, ...rows, '</table>'].join('\n');
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
