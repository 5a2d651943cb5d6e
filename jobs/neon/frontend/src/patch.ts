// Bringing the drawn SVG up to a new rendering by changing only what differs:
// an edit changes a few glyphs, and re-inserting the whole page (hundreds of
// groups) would make the browser rebuild and repaint all of them. Children
// are matched by position while their number stays, by id when it changes.

/**
 * Parse verovio's SVG text into a detached <svg> element (the HTML parser is the fast one). Each
 * rendering names its <svg> and glyph definitions with a new random suffix (its style sheet's
 * selectors too); one fixed name keeps them equal from one rendering to the next.
 */
export function parseSvg(text: string): SVGSVGElement {
  const suffix = /<svg\b[^>]*?\sid="([^"]+)"/.exec(text)?.[1];
  const template = document.createElement("template");
  template.innerHTML = suffix
    ? text.replaceAll(`-${suffix}"`, '-neon-page"').replace(`id="${suffix}"`, 'id="neon-page"').replaceAll(`#${suffix} `, "#neon-page ")
    : text;
  const svg = template.content.querySelector("svg");
  if (!svg) throw new Error("verovio's answer has no <svg>.");
  return svg;
}

/** The page's own marks (selection, off-line outline) are classes starting "neon-"; verovio's never do. */
const verovioClasses = (value: string | null) => (value ?? "").split(/\s+/).filter((c) => c && !c.startsWith("neon-")).join(" ");

/**
 * What a patch changed that is part of verovio's drawing: nodes replaced, and attributes changed
 * other than the page's marks and ids (nothing draws by id; verovio gives the elements the MEI
 * does not name, such as text spans and systems, new random ids at each rendering).
 */
export interface Changes {
  replaced: number;
  drawing: number;
}

function syncAttributes(old: Element, fresh: Element, changes: Changes) {
  for (const attr of Array.from(old.attributes)) {
    if (fresh.hasAttribute(attr.name)) continue;
    old.removeAttribute(attr.name);
    if (attr.name !== "class" || verovioClasses(attr.value)) changes.drawing += 1;
  }
  for (const attr of Array.from(fresh.attributes)) {
    const before = old.getAttribute(attr.name);
    if (before === attr.value) continue;
    old.setAttribute(attr.name, attr.value);
    const mark = attr.name === "class" ? verovioClasses(before) === verovioClasses(attr.value) : attr.name === "id";
    if (!mark) changes.drawing += 1;
  }
}

/** Make `old` (in the page) equal to `fresh` (detached), keeping every node that did not change; what changed. */
export function patch(old: Node, fresh: Node, changes: Changes = { replaced: 0, drawing: 0 }): Changes {
  if (old.isEqualNode(fresh)) return changes;
  if (old.nodeType !== Node.ELEMENT_NODE || old.nodeName !== fresh.nodeName) {
    old.parentNode!.replaceChild(fresh, old);
    changes.replaced += 1;
    return changes;
  }
  syncAttributes(old as Element, fresh as Element, changes);
  const before = Array.from(old.childNodes);
  const after = Array.from(fresh.childNodes);
  if (before.length === after.length && before.every((node, i) => node.nodeName === after[i].nodeName)) {
    before.forEach((node, i) => patch(node, after[i], changes));
    return changes;
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
      patch(existing, node, changes);
      return existing;
    }
    changes.replaced += 1;
    return node;
  });
  if (result.length !== before.length || result.some((node, i) => node !== before[i])) changes.drawing += 1;
  (old as Element).replaceChildren(...result);
  return changes;
}

const idOfNode = (node: Node) => (node.nodeType === Node.ELEMENT_NODE ? (node as Element).id : "");

/** verovio's drawing as text without what differs between two renderings of one document: the page's marks and the random ids (those `named` does not know). */
export function comparable(svg: Element, named: (id: string) => boolean): string {
  const copy = svg.cloneNode(true) as Element;
  for (const element of Array.from(copy.querySelectorAll("[id]"))) if (!named(element.id)) element.removeAttribute("id");
  for (const element of Array.from(copy.querySelectorAll("[class]"))) element.setAttribute("class", verovioClasses(element.getAttribute("class")));
  return copy.outerHTML;
}
