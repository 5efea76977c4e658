// Redaction of text an API server wrote (error messages, causes, reasons), by structure.
//
// The gateway cannot know a Secret's stored values in general: a value written by someone else
// is only ever seen inside the server's own text. What it can know is where values hide in that
// text. The API server embeds whole objects in its messages (`patch: Invalid value: "{…}"` holds
// the patched Secret, every stored value in base64), Go map dumps (`map[data:map[k:v]]`) and
// decoder context (`error found in #10 byte of ...|"k":"v"|...`). All three are removed whole,
// whatever object they hold, and long base64 runs left anywhere are removed too. What remains
// (the field path, the reason, a short quoted value such as a key name) is what the caller needs.

/** What stands in for a removed part of a server's text. */
export const omittedByGateway = "<omitted by the gateway>";

// A Go-quoted string: `"…"` with backslash escapes. The server quotes the values it refuses.
const quotedText = /"((?:[^"\\]|\\.)*)"/g;

// Decoder context: from the first `...|` to the last `|...`. Greedy on purpose: the fragments
// are raw JSON and may themselves contain `|`, so the only safe end is the last marker.
const decoderContext = /\.\.\.\|[\s\S]*\|\.\.\./g;

// A maximal run of the base64 alphabet. Judged by `looksLikeEncodedValue`, so that paths
// (`/apis/apps/v1`), names and kinds stay readable.
const base64Run = /[A-Za-z0-9+/]{24,}={0,2}/g;

// A quoted value longer than this is not a key name, a type or a short field value.
const longestKeptQuotedText = 200;

function looksLikeEncodedValue(run: string): boolean {
  if (run.endsWith("=") || run.includes("+")) return true;
  // Random base64 mixes all three classes; paths, DNS names and CamelCase kinds do not.
  return /[A-Z]/.test(run) && /[a-z]/.test(run) && /[0-9]/.test(run);
}

function holdsStructure(text: string): boolean {
  return text.includes("{") || text.includes("[") || text.length > longestKeptQuotedText;
}

/** Where the quoted text opened at `start` ends; the end of the text when it never closes. */
function closingQuote(text: string, start: number): number {
  for (let position = start + 1; position < text.length; position += 1) {
    if (text[position] === "\\") position += 1;
    else if (text[position] === '"') return position;
  }
  return text.length;
}

/**
 * Replaces each group opened by `opener` (`{` or `map[`) and closed by its matching bracket
 * with the marker. Brackets inside quoted text do not count (a value may hold `}`), and an
 * unclosed group or quote runs to the end: a text cut short must not leave half an object behind.
 */
function withoutGroups(text: string, opener: "{" | "map[", close: "}" | "]"): string {
  const open = opener === "{" ? "{" : "[";
  let result = "";
  let index = 0;
  while (index < text.length) {
    const start = text.indexOf(opener, index);
    if (start === -1) {
      result += text.slice(index);
      break;
    }
    let depth = 0;
    let end = text.length;
    for (let position = start + opener.length - 1; position < text.length; position += 1) {
      const character = text[position];
      if (character === '"') {
        position = closingQuote(text, position);
        continue;
      }
      if (character === open) depth += 1;
      else if (character === close) {
        depth -= 1;
        if (depth === 0) {
          end = position + 1;
          break;
        }
      }
    }
    const group = text.slice(start, end);
    // `{}` and `map[]` say "empty", and a group without a `:` holds no key/value pair.
    const keep = group.length <= opener.length + 1 || !group.includes(":");
    result += text.slice(index, start) + (keep ? group : `${opener}${omittedByGateway}${close}`);
    index = end;
  }
  return result;
}

/**
 * Text an API server wrote, with every embedded object, map dump, decoder context and long
 * base64 run removed. Idempotent, so applying it at several layers is harmless.
 */
export function redactServerText(text: string): string {
  const withoutContext = text.replace(decoderContext, `...|${omittedByGateway}|...`);
  const withoutQuotedObjects = withoutContext.replace(quotedText, (whole, inner: string) =>
    holdsStructure(inner) ? `"${omittedByGateway}"` : whole,
  );
  const withoutMaps = withoutGroups(withoutQuotedObjects, "map[", "]");
  const withoutObjects = withoutGroups(withoutMaps, "{", "}");
  return withoutObjects.replace(base64Run, (run) => (looksLikeEncodedValue(run) ? omittedByGateway : run));
}
