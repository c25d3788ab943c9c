/** A line chart of one metric, one line per group, drawn by uPlot on a canvas. */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { ChartData } from '../lib/series.ts';

/** Axis ticks with three significant digits (requests/s and costs are often far below 1). */
const tick = new Intl.NumberFormat('en-US', { maximumSignificantDigits: 3 });

const COLORS = [
  '#2563eb',
  '#dc2626',
  '#16a34a',
  '#9333ea',
  '#ea580c',
  '#0891b2',
  '#ca8a04',
  '#db2777',
];

export function LineChart({ title, unit, data }: { title: string; unit: string; data: ChartData }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const width = () => Math.max(240, el.clientWidth);
    const plot = new uPlot(
      {
        width: width(),
        height: 180,
        series: [
          {},
          ...data.labels.map((label, i) => ({
            label,
            stroke: COLORS[i % COLORS.length]!,
            width: 2,
            spanGaps: false,
            points: { show: data.columns[0].length < 60 },
          })),
        ],
        axes: [
          {},
          { label: unit, size: 70, values: (_u, splits) => splits.map((v) => tick.format(v)) },
        ],
        legend: { live: false },
      },
      data.columns as uPlot.AlignedData,
      el,
    );
    const resize = new ResizeObserver(() => plot.setSize({ width: width(), height: 180 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [data, unit]);
  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      <div ref={box} role="img" aria-label={`${title} by ${data.labels.join(', ')}`} />
    </figure>
  );
}
