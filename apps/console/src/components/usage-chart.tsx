import { layoutBars } from '../lib/chart.ts';
import { formatNumber } from '../lib/format.ts';

const W = 720;
const H = 160;
const PAD_LEFT = 44;
const PAD_BOTTOM = 22;

/** A plain SVG bar chart: one bar per day, labels every few days, hover titles with values. */
export function BarChart({ points, kind, title }: { points: { label: string; value: number }[]; kind: 'read' | 'write'; title: string }) {
  const { bars, max } = layoutBars(points, W - PAD_LEFT, H - PAD_BOTTOM);
  const every = Math.max(1, Math.ceil(points.length / 8));
  return (
    <figure style={{ margin: 0 }}>
      <figcaption className="hint">{title}</figcaption>
      <svg className="chart" viewBox={`0 0 ${W} ${H}`} width="100%" role="img" aria-label={title}>
        <line x1={PAD_LEFT} y1={H - PAD_BOTTOM} x2={W} y2={H - PAD_BOTTOM} stroke="#dfe4df" />
        <text x={PAD_LEFT - 6} y={10} textAnchor="end">
          {formatNumber(max)}
        </text>
        <text x={PAD_LEFT - 6} y={H - PAD_BOTTOM} textAnchor="end">
          0
        </text>
        {bars.map((b, i) => (
          <g key={b.label} transform={`translate(${PAD_LEFT},0)`}>
            <rect className={kind === 'read' ? 'bar-read' : 'bar-write'} x={b.x} y={b.y} width={b.width} height={b.height} rx={2}>
              <title>{`${b.label}: ${formatNumber(b.value)}`}</title>
            </rect>
            {i % every === 0 ? (
              <text x={b.x + b.width / 2} y={H - 6} textAnchor="middle">
                {b.label.slice(5)}
              </text>
            ) : null}
          </g>
        ))}
      </svg>
    </figure>
  );
}
