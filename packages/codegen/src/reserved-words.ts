/**
 * Names a protocol may not use. The generated TypeScript has its own reserved names; flatc's
 * output for the other languages reaches a name unchanged in some places, where a keyword of
 * that language would not compile. Elsewhere flatc 2.0.8 renames keywords itself (appending
 * `_`: Python `from` → `From_()`, Rust `move` → `move_`, C# `object` → `@object`), so those are
 * allowed; docs/protocol.md lists what is refused and why. The lists below were checked by
 * generating every keyword in every position with flatc 2.0.8 (Lua aside: its `--lua` crashes;
 * newer flatc appends `_` to Lua keywords everywhere).
 */

/** Names the generated module declares or relies on, and names that break JS objects or classes. */
export const RESERVED_TYPE_NAMES: ReadonlySet<string> = new Set([
  'Api', 'ApiClient', 'RequestOptions', 'SceneHandlers', 'PushMap', 'ROUTE', 'PUSH', 'RouteId', 'PushId', 'Codec', 'RouteDef', 'PushDef', 'Protocol',
  'Rpc', 'RpcHandlers', 'RpcCaller', 'RpcCallOptions', 'RpcDef', 'EntityMap', 'ENTITIES',
  'Array', 'BigInt', 'Boolean', 'Error', 'Float32Array', 'Float64Array', 'Function', 'Int8Array', 'Int16Array', 'Int32Array',
  'BigInt64Array', 'BigUint64Array', 'Map', 'Number', 'Object', 'Promise', 'Readonly', 'ReadonlyMap', 'Record', 'Set',
  'String', 'Symbol', 'TextDecoder', 'TextEncoder', 'Uint8Array', 'Uint16Array', 'Uint32Array',
]);

export const RESERVED_MEMBER_NAMES: ReadonlySet<string> = new Set([
  // Words flatc renames in its TypeScript output (it appends "_"), so its accessors would not match.
  'arguments', 'as', 'break', 'case', 'catch', 'class', 'const', 'continue', 'debugger', 'default', 'delete', 'do',
  'else', 'enum', 'export', 'extends', 'false', 'finally', 'for', 'function', 'if', 'implements', 'import', 'in',
  'instanceof', 'interface', 'let', 'new', 'null', 'package', 'private', 'protected', 'public', 'return', 'static',
  'super', 'switch', 'this', 'throw', 'true', 'try', 'typeof', 'var', 'void', 'while', 'with', 'yield',
  // Members of every JS object or of flatc's generated classes.
  'constructor', 'hasOwnProperty', 'isPrototypeOf', 'propertyIsEnumerable', 'prototype', 'toLocaleString', 'toString',
  'valueOf', 'bb', 'bbPos',
  // FlatBuffers schema keywords.
  'attribute', 'include', 'namespace', 'struct', 'table', 'union',
]);

const words = (list: string): ReadonlySet<string> => new Set(list.split(/\s+/).filter((w) => w !== ''));

const PYTHON = words(`False None True and as assert async await break class continue def del elif else except finally
  for from global if import in is lambda nonlocal not or pass raise return try while with yield`);
const CSHARP = words(`abstract as base bool break byte case catch char checked class const continue decimal default
  delegate do double else enum event explicit extern false finally fixed float for foreach goto if implicit in int
  interface internal is lock long namespace new null object operator out override params private protected public
  readonly ref return sbyte sealed short sizeof stackalloc static string struct switch this throw true try typeof uint
  ulong unchecked unsafe ushort using virtual void volatile while`);
const CPP = words(`alignas alignof and and_eq asm auto bitand bitor bool break case catch char char8_t char16_t
  char32_t class compl concept const consteval constexpr constinit const_cast continue co_await co_return co_yield
  decltype default delete do double dynamic_cast else enum explicit export extern false float for friend goto if
  inline int long mutable namespace new noexcept not not_eq nullptr operator or or_eq private protected public
  register reinterpret_cast requires return short signed sizeof static static_assert static_cast struct switch
  template this thread_local throw true try typedef typeid typename union unsigned using virtual void volatile
  wchar_t while xor xor_eq`);
const GO = words(`break case chan const continue default defer else fallthrough for func go goto if import interface
  map package range return select struct switch type var`);
const JAVA = words(`abstract assert boolean break byte case catch char class const continue default do double else
  enum extends final finally float for goto if implements import instanceof int interface long native new package
  private protected public return short static strictfp super switch synchronized this throw throws transient try
  void volatile while true false null`);
const KOTLIN = words(`as break class continue do else false for fun if in interface is null object package return
  super this throw true try typealias typeof val var when while`);
/** PHP's reserved words, and the names PHP reserves for classes; PHP compares them ignoring case. */
const PHP = words(`abstract and array as break callable case catch class clone const continue declare default die
  do echo else elseif empty enddeclare endfor endforeach endif endswitch endwhile eval exit extends final finally fn
  for foreach function global goto if implements include include_once instanceof insteadof interface isset list
  match namespace new or print private protected public readonly require require_once return static switch throw
  trait try unset use var while xor yield int float bool string true false null void iterable object mixed never
  enum resource numeric self parent`);

/**
 * Field, route and enum value names (routes and pushes become values of the RouteId and PushId
 * enums): the keywords flatc 2.0.8 leaves unchanged there. Python and Rust keywords newer than
 * its lists, C++20's, two Swift ones, and Java's `null`.
 */
const MEMBER_GAPS: readonly (readonly [string, ReadonlySet<string>])[] = [
  ['Python', words('async await')],
  ['Rust', words('async await dyn try')],
  ['C++', words('char8_t consteval constinit')],
  ['Swift', words('as await precedencegroup')],
  ['Java', words('null')],
];

/**
 * Namespace parts become package, module or namespace names, which flatc never renames; Rust's
 * and Swift's generators do, except for the same gaps as for members.
 */
const NAMESPACE_WORDS: readonly (readonly [string, ReadonlySet<string>])[] = [
  ['Python', PYTHON],
  ['C#', CSHARP],
  ['C++', CPP],
  ['Go', GO],
  ['Java', JAVA],
  ['Kotlin', KOTLIN],
  ['PHP', PHP],
  ['Rust', words('async await dyn try')],
  ['Swift', words('as await precedencegroup')],
];

const lowerFirst = (name: string): string => name.charAt(0).toLowerCase() + name.slice(1);

/** Why a message or enum name cannot be used in some flatc language, or null when it can. */
export function typeNameProblem(name: string): string | null {
  // Python's object API names a local variable after the type, its first letter lower-cased.
  if (PYTHON.has(name) || PYTHON.has(lowerFirst(name))) {
    return `"${name}" is reserved in Python: flatc's Python code would use "${PYTHON.has(name) ? name : lowerFirst(name)}", a keyword, as a name`;
  }
  if (PHP.has(name.toLowerCase())) return `"${name}" is reserved in PHP: "${name.toLowerCase()}" is a reserved word there, and PHP class names ignore case`;
  return null;
}

/** Why a field, route, push or enum value name cannot be used in some flatc language, or null. */
export function memberNameProblem(name: string): string | null {
  const languages = MEMBER_GAPS.filter(([, set]) => set.has(name)).map(([language]) => language);
  if (languages.length === 0) return null;
  return `"${name}" is reserved in ${languages.join(', ')}: flatc does not rename it there, so the generated code would not compile`;
}

/** Why a namespace part cannot be used in some flatc language, or null. */
export function namespacePartProblem(part: string): string | null {
  const languages = NAMESPACE_WORDS.filter(([, set]) => set.has(part)).map(([language]) => language);
  if (languages.length === 0) return null;
  return `namespace part "${part}" is reserved in ${languages.join(', ')}: flatc uses it unchanged as a package, module or namespace name`;
}
