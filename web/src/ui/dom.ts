/*
 * A small element builder. Attributes are set one by one with setAttribute,
 * and "style" is not accepted: the CSP forbids inline style attributes, so
 * presentation lives in styles.css and is switched with classes.
 */

export type AttrValue = string | number | boolean | null | undefined;
export type Attrs = { readonly [name: string]: AttrValue } & { readonly style?: never };
export type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: readonly Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    el.setAttribute(name, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

export function append(parent: Node, children: readonly Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    parent.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
  }
}

let idCounter = 0;

/** A document-unique id for label/aria wiring. */
export function uid(prefix: string): string {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

export function clear(el: Element): void {
  el.replaceChildren();
}
