/**
 * Schematic drawings of the calcification patterns (our own, drawn for calcdx): a soft-tissue
 * lesion (grey) on a dark background as on a radiograph or CT, with the calcification in white,
 * so that the reader can match what is seen to the pattern's name. SVG elements (no inline
 * style: the page's CSP is style-src 'self').
 */
import { Component, type VNode } from 'preact';

const CALC = '#f5f5f2';
const dot = (cx: number, cy: number, r: number): VNode => <circle cx={cx} cy={cy} r={r} fill={CALC} />;
const line = (d: string, w = 1.6): VNode => <path d={d} fill="none" stroke={CALC} stroke-width={w} stroke-linecap="round" />;

/** The calcification of each pattern, drawn inside the lesion (an ellipse centred at 24,24, 20×16). */
const DRAW: Record<string, () => VNode[]> = {
  // small round dots scattered through the lesion
  punctate: () => [[15, 18], [24, 14], [31, 19], [18, 27], [27, 25], [34, 29], [22, 33], [13, 24], [30, 34]].map(([x, y]) => dot(x!, y!, 1.4)),
  // rings and arcs (chondroid matrix)
  ring_arc: () => [
    line('M12.5 22 a4 4 0 1 1 5 4.5', 1.5), line('M22 14.5 a3.5 3.5 0 1 0 4 5.5', 1.5),
    <circle cx={31} cy={23} r={3.4} fill="none" stroke={CALC} stroke-width={1.5} />,
    line('M19 31 a4 4 0 0 1 7 1', 1.5), line('M30.5 31.5 a3 3 0 1 1 3.5 3', 1.5),
  ],
  // ill-defined cloudy densities
  amorphous: () => [
    <path d="M14 22c2-5 8-5 10-2s-1 7-5 7-6-1-5-5z" fill={CALC} fill-opacity={0.7} />,
    <path d="M25 27c1-4 7-6 9-2s0 8-4 8-6-2-5-6z" fill={CALC} fill-opacity={0.55} />,
    <path d="M26 15c2-1 5 0 5 2s-3 3-5 2-2-3 0-4z" fill={CALC} fill-opacity={0.6} />,
  ],
  // thin streaks along the tissue planes
  linear: () => [line('M9 20 Q24 16 39 21'), line('M10 26 Q24 23 38 27'), line('M13 31 Q24 29 35 32'), line('M14 15 Q24 12 33 15', 1.2)],
  // round densities with a lucent centre (calcified thrombi of a vascular malformation)
  phlebolith: () => [[16, 21], [29, 18], [24, 30], [34, 28]].flatMap(([x, y]) => [
    <circle cx={x} cy={y} r={3.3} fill="none" stroke={CALC} stroke-width={1.8} />, dot(x!, y!, 0.8),
  ]),
  // many small oval grains aligned with the muscle fibres (cysticercosis)
  rice_grain: () => [[12, 22], [18, 17], [25, 15], [32, 18], [15, 28], [22, 24], [29, 25], [36, 25], [20, 32], [27, 31], [33, 32]]
    .map(([x, y]) => <ellipse cx={x} cy={y} rx={2.6} ry={0.9} fill={CALC} transform={`rotate(-18 ${x} ${y})`} />),
  // organised bone: a thin cortex with a trabecular network inside
  trabecular: () => [
    <ellipse cx={24} cy={24} rx={14} ry={11} fill="none" stroke={CALC} stroke-width={1.6} />,
    line('M13 19 L35 29 M12 25 L30 35 M17 14 L37 24 M11 30 L24 17 M18 34 L34 18 M26 35 L37 26 M13 22 L22 14', 0.9),
  ],
  // a shell at the periphery, the centre less dense (zonal pattern of maturing myositis ossificans)
  rim: () => [
    <ellipse cx={24} cy={24} rx={17} ry={13.5} fill="none" stroke={CALC} stroke-width={3.2} />,
    <ellipse cx={24} cy={24} rx={12.5} ry={9.5} fill="none" stroke={CALC} stroke-width={1} stroke-opacity={0.35} />,
  ],
  // broad plaque-like sheets (calcinosis)
  sheet: () => [
    <path d="M8 22c6-4 14-3 20-5s10-1 12 2c-4 2-8 5-14 6s-13 2-18-3z" fill={CALC} fill-opacity={0.9} />,
    <path d="M12 31c5-2 10-1 16-3s8-1 10 1c-4 3-9 5-15 5s-9-1-11-3z" fill={CALC} fill-opacity={0.75} />,
  ],
  // dense mineralisation in the centre fading outwards (osteoid matrix)
  dense_central: () => [
    <ellipse cx={24} cy={24} rx={12} ry={9.5} fill={CALC} fill-opacity={0.3} />,
    <path d="M17 24c0-5 4-7 7-7s8 2 7 7-4 7-7 7-7-2-7-7z" fill={CALC} />,
  ],
};

/** The schematic of one pattern (48×48), decorative: the pattern's name is the label. Drawn once. */
export class PatternIcon extends Component<{ pattern: string }> {
  override shouldComponentUpdate(n: { pattern: string }): boolean { return n.pattern !== this.props.pattern; }

  override render() {
    const { pattern } = this.props;
    return (
      <svg viewBox="0 0 48 48" width={48} height={48} class="pattern-icon" aria-hidden="true" focusable="false" data-pattern={pattern}>
        <rect x={0} y={0} width={48} height={48} rx={6} fill="#262b33" />
        <ellipse cx={24} cy={24} rx={20} ry={16} fill="#5f6873" />
        {DRAW[pattern]?.()}
      </svg>
    );
  }
}

