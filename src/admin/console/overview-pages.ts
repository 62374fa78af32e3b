import type Router from '@koa/router';

import type { Services } from '../../app.js';
import type { MinuteCounts } from '../../audit/token-stats.js';
import { invalidInput } from '../../errors.js';
import type { PageKit } from './page-kit.js';

const CHART = { width: 600, height: 120 };

/** Bars of tokens issued (up) and revoked (down) per minute, as SVG geometry for the view. */
export function chartBars(series: readonly MinuteCounts[]): { x: number; width: number; issued: { y: number; h: number }; revoked: { y: number; h: number }; label: string }[] {
  const max = Math.max(1, ...series.map((m) => Math.max(m.issued, m.revoked)));
  const half = CHART.height / 2;
  const width = CHART.width / Math.max(1, series.length);
  return series.map((m, i) => {
    const up = (m.issued / max) * (half - 2);
    const down = (m.revoked / max) * (half - 2);
    return {
      x: i * width,
      width: Math.max(1, width - 1),
      issued: { y: half - up, h: up },
      revoked: { y: half, h: down },
      label: `${m.minute.toISOString().slice(11, 16)} UTC: ${m.issued} issued, ${m.revoked} revoked`,
    };
  });
}

function dateParam(value: unknown, field: string): Date | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw invalidInput(field, 'must be a date, e.g. 2026-11-21 or 2026-11-21T10:00');
  return date;
}

const text = (value: unknown): string | undefined => (typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined);

/** Dashboard (live figures, refreshed by the page every 30 s) and the audit log with filters. */
export function registerOverviewPages(router: Router, deps: { services: Services; kit: PageKit }): void {
  const { services, kit } = deps;

  router.get('/', async (ctx) => {
    const figures = await services.dashboard.figures();
    const last = figures.tokensPerMinute.slice(-5);
    kit.render(ctx, 'dashboard', {
      title: 'Dashboard',
      nav: 'dashboard',
      figures,
      chart: { ...CHART, bars: chartBars(figures.tokensPerMinute) },
      lastFive: { issued: last.reduce((n, m) => n + m.issued, 0), revoked: last.reduce((n, m) => n + m.revoked, 0) },
    });
  });

  router.get('/audit', async (ctx) => {
    const filters = {
      action: text(ctx.query.action) ?? '',
      actor: text(ctx.query.actor) ?? '',
      target: text(ctx.query.target) ?? '',
      outcome: (ctx.query.outcome === 'success' || ctx.query.outcome === 'failure' ? ctx.query.outcome : '') as 'success' | 'failure' | '',
      since: text(ctx.query.since) ?? '',
      until: text(ctx.query.until) ?? '',
    };
    await kit.attempt(ctx, '/admin/audit', async () => {
      const page = await services.audit.list({
        action: filters.action || undefined,
        actorId: filters.actor || undefined,
        targetId: filters.target || undefined,
        outcome: filters.outcome || undefined,
        since: dateParam(filters.since, 'since'),
        until: dateParam(filters.until, 'until'),
        limit: 100,
        cursor: text(ctx.query.cursor),
      });
      const next = page.nextCursor ? `/admin/audit?${new URLSearchParams({ ...filters, cursor: page.nextCursor })}` : null;
      kit.render(ctx, 'audit', { title: 'Audit log', nav: 'audit', filters, events: page.items, next });
    });
  });
}
