/**
 * The chart of docs/bench: wall time against concurrent calls N for this app, the bare LangGraph
 * floor, the ideal (one model latency) and one-at-a-time (extrapolated). Both axes are logarithmic:
 * N spans two decades and the sequential line reaches thousands of seconds while the others stay
 * near 2 s. Hand-written SVG, so the docs need no charting dependency.
 */
import type { BenchResults } from "./report.ts";

const WIDTH = 840;
const HEIGHT = 470;
const PLOT = { left: 80, right: 260, top: 40, bottom: 70 };

const xmlText = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const thousands = (value: number) => value.toLocaleString("en-US");

export function wallVsConcurrencySvg(results: BenchResults): string {
  const delayS = results.modelDelayMs / 1000;
  const ns = [...new Set([...results.agent.map((r) => r.n), ...results.bare.map((r) => r.n)])].sort(
    (a, b) => a - b,
  );
  const minN = ns[0] ?? 100;
  const maxN = ns.at(-1) ?? 5_000;
  const perCallS = results.sequential ? results.sequential.perCallMs / 1000 : undefined;

  const values = [
    delayS,
    ...results.agent.map((r) => r.wallMs / 1000),
    ...results.bare.map((r) => r.wallMs / 1000),
    ...(perCallS ? [perCallS * minN, perCallS * maxN] : []),
  ].filter((value) => value > 0 && Number.isFinite(value));
  const xLo = Math.floor(Math.log10(minN));
  const xHi = Math.ceil(Math.log10(maxN) + 1e-9);
  const yLo = Math.floor(Math.log10(Math.min(...values)));
  const yHi = Math.max(yLo + 1, Math.ceil(Math.log10(Math.max(...values))));

  const plotW = WIDTH - PLOT.left - PLOT.right;
  const plotH = HEIGHT - PLOT.top - PLOT.bottom;
  const x = (n: number) => PLOT.left + ((Math.log10(n) - xLo) / (xHi - xLo)) * plotW;
  const y = (s: number) => PLOT.top + plotH - ((Math.log10(s) - yLo) / (yHi - yLo)) * plotH;
  const pt = (n: number, s: number) => `${x(n).toFixed(1)},${y(s).toFixed(1)}`;

  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="Helvetica, Arial, sans-serif" font-size="13">`,
    // A title is the SVG's alternative text (screen readers; biome's a11y rule asks for it).
    `<title>Wall time of N concurrent agent calls: this app, bare LangGraph, ideal and one at a time</title>`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#fff"/>`,
    `<text x="${WIDTH / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">Wall time of N concurrent agent calls (model answers after ${delayS} s)</text>`,
  );

  // Grid and tick labels: every decade, plus the measured N values on the x axis.
  for (let d = yLo; d <= yHi; d++) {
    const value = 10 ** d;
    parts.push(
      `<line x1="${PLOT.left}" y1="${y(value)}" x2="${PLOT.left + plotW}" y2="${y(value)}" stroke="#ddd"/>`,
      `<text x="${PLOT.left - 8}" y="${y(value) + 4}" text-anchor="end">${thousands(value)}</text>`,
    );
  }
  // The ideal line's value gets its own label: it is the number every other line is read against.
  parts.push(
    `<text x="${PLOT.left - 8}" y="${y(delayS) + 4}" text-anchor="end" fill="#2a9d8f">${delayS}</text>`,
  );
  const xTicks = [...new Set([...Array.from({ length: xHi - xLo + 1 }, (_, i) => 10 ** (xLo + i)), ...ns])];
  for (const n of xTicks) {
    parts.push(
      `<line x1="${x(n)}" y1="${PLOT.top}" x2="${x(n)}" y2="${PLOT.top + plotH}" stroke="#ddd"/>`,
      `<text x="${x(n)}" y="${PLOT.top + plotH + 18}" text-anchor="middle">${thousands(n)}</text>`,
    );
  }
  parts.push(
    `<rect x="${PLOT.left}" y="${PLOT.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333"/>`,
    `<text x="${PLOT.left + plotW / 2}" y="${HEIGHT - 22}" text-anchor="middle">concurrent calls N (log scale)</text>`,
    `<text transform="translate(22 ${PLOT.top + plotH / 2}) rotate(-90)" text-anchor="middle">wall time, seconds (log scale)</text>`,
  );

  const series: {
    label: string;
    color: string;
    dash?: string;
    points: [number, number][];
    marks: boolean;
  }[] = [
    {
      label: `ideal: ${delayS} s`,
      color: "#2a9d8f",
      dash: "6 4",
      points: [
        [10 ** xLo, delayS],
        [10 ** xHi, delayS],
      ],
      marks: false,
    },
    {
      label: "bare LangGraph floor",
      color: "#457b9d",
      points: results.bare.map((r) => [r.n, r.wallMs / 1000]),
      marks: true,
    },
    {
      label: "this app (MCP over HTTP)",
      color: "#e63946",
      points: results.agent.map((r) => [r.n, r.wallMs / 1000]),
      marks: true,
    },
  ];
  if (perCallS) {
    series.push({
      label: "one at a time (extrapolated)",
      color: "#888",
      dash: "2 4",
      points: [
        [minN, perCallS * minN],
        [maxN, perCallS * maxN],
      ],
      marks: false,
    });
  }

  for (const s of series) {
    if (!s.points.length) continue;
    const dash = s.dash ? ` stroke-dasharray="${s.dash}"` : "";
    parts.push(
      `<polyline fill="none" stroke="${s.color}" stroke-width="2"${dash} points="${s.points.map(([n, v]) => pt(n, v)).join(" ")}"/>`,
    );
    if (s.marks) {
      for (const [n, v] of s.points)
        parts.push(`<circle cx="${x(n)}" cy="${y(v)}" r="4" fill="${s.color}"/>`);
    }
  }
  // The app's points say how many calls succeeded: a fast wall made of rejections is not a fast server.
  for (const run of results.agent) {
    const label = `${thousands(run.ok)}/${thousands(run.n)} ok`;
    parts.push(
      `<text x="${x(run.n) + 7}" y="${y(run.wallMs / 1000) + 14}" fill="#e63946" font-size="11">${xmlText(label)}</text>`,
    );
  }

  const legendX = PLOT.left + plotW + 16;
  series.forEach((s, i) => {
    const ly = PLOT.top + 14 + i * 24;
    const dash = s.dash ? ` stroke-dasharray="${s.dash}"` : "";
    parts.push(
      `<line x1="${legendX}" y1="${ly}" x2="${legendX + 26}" y2="${ly}" stroke="${s.color}" stroke-width="2"${dash}/>`,
      `<text x="${legendX + 32}" y="${ly + 4}">${xmlText(s.label)}</text>`,
    );
  });
  parts.push(
    `<text x="${legendX}" y="${PLOT.top + 14 + series.length * 24 + 10}" font-size="11" fill="#555">${xmlText(results.startedAt.toISOString().slice(0, 10))}, ${results.machine.cores} cores, Node ${xmlText(results.machine.node)}</text>`,
    `<text x="${legendX}" y="${PLOT.top + 14 + series.length * 24 + 26}" font-size="11" fill="#555">shared machine</text>`,
    "</svg>",
  );
  return `${parts.join("\n")}\n`;
}
