/** ECharts with only the parts the screen draws, so the bundle stays small. */
import { BarChart, FunnelChart, LineChart } from 'echarts/charts';
import { GridComponent, LegendComponent, MarkLineComponent, TooltipComponent, VisualMapComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';

echarts.use([BarChart, FunnelChart, LineChart, GridComponent, LegendComponent, MarkLineComponent, TooltipComponent, VisualMapComponent, CanvasRenderer]);

export type Chart = echarts.ECharts;

/** A chart in `element`, resized with the window; `animation` off so a render is complete when `setOption` returns. */
export function chartIn(element: HTMLElement): Chart {
  const chart = echarts.getInstanceByDom(element) ?? echarts.init(element, undefined, { renderer: 'canvas' });
  window.addEventListener('resize', () => chart.resize());
  return chart;
}

export const TEXT = { color: '#c8d6e5' };
