import { Eta } from 'eta';

export interface Views {
  /** Renders views/<name>.eta; every `<%= %>` output is HTML-escaped. */
  render(name: string, data: Record<string, unknown>): string;
}

export function createViews(viewsDir: string): Views {
  const eta = new Eta({ views: viewsDir, autoEscape: true, cache: true });
  return { render: (name, data) => eta.render(name, data) };
}
