/** A small SVG line chart: one or two series over the last minute, with their latest values. */
export interface Series {
  label: string;
  colour: string;
  /** undefined: no data at that point (a gap). */
  values: (number | undefined)[];
}

const W = 300;
const H = 90;

export function Chart({ title, unit, series }: { title: string; unit: string; series: Series[] }) {
  const all = series.flatMap((s) => s.values.filter((v): v is number => v !== undefined));
  const max = Math.max(1, ...all);
  const n = Math.max(2, ...series.map((s) => s.values.length));
  const x = (i: number) => (i * W) / (n - 1);
  const y = (v: number) => H - (v / max) * (H - 4) - 2;
  const format = (v: number | undefined) =>
    v === undefined ? '–' : v >= 100 || Number.isInteger(v) ? v.toFixed(0) : v.toFixed(1);
  return (
    <figure className="chart" data-testid={`chart-${title}`}>
      <figcaption>
        {title}
        {series.map((s) => (
          <span key={s.label} className="latest" style={{ color: s.colour }}>
            {' '}
            {s.label} <output data-series={s.label}>{format(s.values.at(-1))}</output> {unit}
          </span>
        ))}
      </figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={title}>
        <line x1={0} y1={H - 1} x2={W} y2={H - 1} className="axis" />
        <text x={2} y={10} className="max">
          {format(max)}
        </text>
        {series.map((s) => (
          <polyline
            key={s.label}
            fill="none"
            stroke={s.colour}
            strokeWidth={2}
            points={s.values
              .map((v, i) => (v === undefined ? '' : `${x(i).toFixed(1)},${y(v).toFixed(1)}`))
              .filter(Boolean)
              .join(' ')}
          />
        ))}
      </svg>
    </figure>
  );
}
