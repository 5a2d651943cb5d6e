// Bringing the drawn SVG up to a new rendering by changing only what differs:
// an edit changes a few glyphs, and re-inserting the whole page (hundreds of
// groups) would make the browser rebuild and repaint all of them. Children
// are matched by position while their number stays, by id when it changes.

/**
 * Parse verovio's SVG text into a detached <svg> element (the HTML parser is the fast one). Each
 * rendering names its <svg> and glyph definitions with a new random suffix; one fixed name keeps
 * every glyph's reference to them equal from one rendering to the next.
 */
export function parseSvg(text: string): SVGSVGElement {
  const suffix = /<svg\b[^>]*?\sid="([^"]+)"/.exec(text)?.[1];
  const template = document.createElement("template");
  template.innerHTML = suffix ? text.replaceAll(`-${suffix}"`, '-neon-page"').replace(`id="${suffix}"`, 'id="neon-page"') : text;
  const svg = template.content.querySelector("svg");
  if (!svg) throw new Error("verovio's answer has no <svg>.");
  return svg;
}

function syncAttributes(old: Element, fresh: Element) {
  for (const attr of Array.from(old.attributes)) if (!fresh.hasAttribute(attr.name)) old.removeAttribute(attr.name);
  for (const attr of Array.from(fresh.attributes)) if (old.getAttribute(attr.name) !== attr.value) old.setAttribute(attr.name, attr.value);
}

/** Make `old` (in the page) equal to `fresh` (detached), keeping every node that did not change; how many nodes were replaced. */
export function patch(old: Node, fresh: Node): number {
  if (old.isEqualNode(fresh)) return 0;
  if (old.nodeType !== Node.ELEMENT_NODE || old.nodeName !== fresh.nodeName) {
    old.parentNode!.replaceChild(fresh, old);
    return 1;
  }
  syncAttributes(old as Element, fresh as Element);
  const before = Array.from(old.childNodes);
  const after = Array.from(fresh.childNodes);
  let replaced = 0;
  if (before.length === after.length && before.every((node, i) => node.nodeName === after[i].nodeName)) {
    before.forEach((node, i) => (replaced += patch(node, after[i])));
    return replaced;
  }
  // children added, removed or reordered: keep the ones whose id is still there, take the new ones
  const kept = new Map<string, Node>();
  for (const node of before) {
    const id = idOfNode(node);
    if (id) kept.set(id, node);
  }
  const result = after.map((node) => {
    const id = idOfNode(node);
    const existing = id ? kept.get(id) : undefined;
    if (existing && existing.nodeName === node.nodeName) {
      kept.delete(id!);
      replaced += patch(existing, node);
      return existing;
    }
    replaced += 1;
    return node;
  });
  (old as Element).replaceChildren(...result);
  return replaced;
}

const idOfNode = (node: Node) => (node.nodeType === Node.ELEMENT_NODE ? (node as Element).id : "");
