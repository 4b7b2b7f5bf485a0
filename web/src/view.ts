import type { Graph } from './graph.ts';

export interface ViewContext {
  graph: Graph;
  /** Shows an error (a refused token signs the page out with the reason). */
  report(error: unknown): void;
}

export interface View {
  id: string;
  title: string;
  /** Renders into `element` (shown); called again to refresh. Resolves when the view is complete. */
  render(element: HTMLElement, context: ViewContext): Promise<void>;
  /** Stops what the view keeps running (subscriptions). */
  dispose?(): void;
}
