// A box that scrolls sideways (wide tables at phone width). A keyboard can only scroll what it
// can focus, so the box takes focus (tabindex 0) and is a named region, as axe-core's
// scrollable-region-focusable rule asks.
import type { ComponentChildren } from "preact";

export function Scroll(props: { label: string; children: ComponentChildren }) {
  return (
    <div class="scroll" tabIndex={0} role="region" aria-label={props.label}>
      {props.children}
    </div>
  );
}
