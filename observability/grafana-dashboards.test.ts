/**
 * The Grafana dashboards' structure, as Grafana's provisioning needs it (Grafana itself cannot be
 * installed here; live-prometheus.int.test.ts evaluates every query against a real Prometheus):
 * a unique uid, a Prometheus datasource variable every panel and query uses, unique panel ids,
 * panels that do not overlap on the 24-column grid, and queries with a refId and an expression.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

interface Target {
  readonly refId?: string;
  readonly expr?: string;
  readonly datasource?: { readonly uid?: string };
}
interface Panel {
  readonly id: number;
  readonly title: string;
  readonly type: string;
  readonly gridPos: { readonly x: number; readonly y: number; readonly w: number; readonly h: number };
  readonly datasource?: { readonly type?: string; readonly uid?: string };
  readonly targets: readonly Target[];
}
interface Dashboard {
  readonly uid: string;
  readonly title: string;
  readonly panels: readonly Panel[];
  readonly templating: {
    readonly list: readonly { readonly name: string; readonly type: string; readonly query?: unknown }[];
  };
}

const dir = join(import.meta.dirname, "grafana", "dashboards");
const files = readdirSync(dir).filter((f) => f.endsWith(".json"));
const dashboards = files.map((f) => JSON.parse(readFileSync(join(dir, f), "utf8")) as Dashboard);

describe("Grafana dashboards", () => {
  it("are the inference and registry dashboards, with unique uids", () => {
    expect(dashboards.map((d) => d.uid).sort()).toEqual(["mlpipe-inference", "mlpipe-registry"]);
  });

  it.each(files)("%s: every panel and query uses the Prometheus datasource variable", (file) => {
    const d = dashboards[files.indexOf(file)] as Dashboard;
    expect(d.templating.list.find((v) => v.name === "datasource")).toMatchObject({
      type: "datasource",
      query: "prometheus",
    });
    for (const panel of d.panels) {
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a Grafana variable, not a JavaScript template
      expect(panel.datasource, panel.title).toEqual({ type: "prometheus", uid: "${datasource}" });
      expect(panel.targets.length, panel.title).toBeGreaterThan(0);
      for (const t of panel.targets) {
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a Grafana variable, not a JavaScript template
        expect(t.datasource?.uid, panel.title).toBe("${datasource}");
        expect(t.refId, panel.title).toMatch(/^[A-Z]$/);
        expect(t.expr?.trim(), panel.title).toBeTruthy();
      }
    }
  });

  it.each(files)("%s: panel ids are unique and panels do not overlap on the grid", (file) => {
    const d = dashboards[files.indexOf(file)] as Dashboard;
    expect(new Set(d.panels.map((p) => p.id)).size).toBe(d.panels.length);
    const cells = new Set<string>();
    for (const { title, gridPos: g } of d.panels) {
      expect(g.x + g.w, title).toBeLessThanOrEqual(24);
      for (let x = g.x; x < g.x + g.w; x++) {
        for (let y = g.y; y < g.y + g.h; y++) {
          expect(cells.has(`${x},${y}`), `${title} overlaps another panel at ${x},${y}`).toBe(false);
          cells.add(`${x},${y}`);
        }
      }
    }
  });
});
