/**
 * A small XML well-formedness check for the JUnit report tests (no XML parser among the
 * dependencies): declaration, properly nested elements, quoted attributes, escaped text.
 * Returns the element names in document order.
 */
export function checkWellFormedXml(xml: string): string[] {
  let rest = xml;
  const decl = /^<\?xml [^?]*\?>\s*/.exec(rest);
  if (!decl) throw new Error("no XML declaration");
  rest = rest.slice(decl[0].length);
  const stack: string[] = [];
  const names: string[] = [];
  const TEXT = /^[^<]*/;
  const ENTITY_OK = /&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/;
  while (rest.length > 0) {
    const text = TEXT.exec(rest)![0];
    if (ENTITY_OK.test(text)) throw new Error(`unescaped & in text: ${text.slice(0, 60)}`);
    rest = rest.slice(text.length);
    if (rest.length === 0) break;
    const close = /^<\/([A-Za-z_][\w.-]*)\s*>/.exec(rest);
    if (close) {
      const open = stack.pop();
      if (open !== close[1]) throw new Error(`</${close[1]}> closes <${open ?? "nothing"}>`);
      rest = rest.slice(close[0].length);
      continue;
    }
    const tag = /^<([A-Za-z_][\w.-]*)((?:\s+[A-Za-z_][\w.:-]*="[^"<]*")*)\s*(\/?)>/.exec(rest);
    if (!tag) throw new Error(`malformed markup near: ${rest.slice(0, 80)}`);
    if (ENTITY_OK.test(tag[2] ?? "")) throw new Error(`unescaped & in attributes of <${tag[1]}>`);
    names.push(tag[1]!);
    if (tag[3] !== "/") stack.push(tag[1]!);
    rest = rest.slice(tag[0].length);
  }
  if (stack.length > 0) throw new Error(`unclosed elements: ${stack.join(", ")}`);
  return names;
}
