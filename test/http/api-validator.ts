/**
 * Validates admin API answers against the server's own OpenAPI document (SPEC H1) with Ajv
 * (JSON Schema 2020-12, the dialect of OpenAPI 3.1): the answer's status picks the response
 * (else `default`, the Problem schema), and its body must match.
 */
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { ApiAnswer } from '../helpers/api-stack.ts';

type Json = Record<string, unknown>;
type Operation = { operationId: string; responses: Record<string, { content: Record<string, { schema: unknown }> }> };

const pointer = (parts: string[]) => parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

export class ApiValidator {
  private readonly ajv;
  readonly operations = new Map<string, { path: string; method: string; op: Operation }>();
  /** operationId → statuses seen and validated. */
  readonly seen = new Map<string, Set<number>>();

  constructor(readonly document: Json) {
    // The Ajv classes are CJS default exports; under ESM the class is on .default.
    const AjvClass = (Ajv2020 as unknown as { default: typeof Ajv2020.default }).default;
    this.ajv = new AjvClass({ strict: false, allErrors: true });
    const formats = (addFormats as unknown as { default: typeof addFormats.default }).default;
    formats(this.ajv);
    this.ajv.addSchema(document, 'openapi.json');
    for (const [path, methods] of Object.entries(document.paths as Record<string, Record<string, Operation>>)) {
      for (const [method, op] of Object.entries(methods)) this.operations.set(op.operationId, { path, method, op });
    }
  }

  /** Checks one answer of `operationId`; throws naming what does not match. Returns the answer. */
  check(operationId: string, answer: ApiAnswer): ApiAnswer {
    const entry = this.operations.get(operationId);
    if (!entry) throw new Error(`no operation ${operationId} in the document`);
    const status = String(answer.status);
    const responseKey = status in entry.op.responses ? status : 'default';
    const content = entry.op.responses[responseKey]!.content;
    const contentType = (answer.headers.get('content-type') ?? '').split(';')[0]!.trim();
    if (!(contentType in content)) throw new Error(`${operationId} ${status}: content-type ${contentType} is not documented (${Object.keys(content).join(', ')})`);
    const ref = `openapi.json#/${pointer(['paths', entry.path, entry.method, 'responses', responseKey, 'content', contentType, 'schema'])}`;
    const validate = this.ajv.getSchema(ref) ?? this.ajv.compile({ $ref: ref });
    const body = contentType === 'text/csv' || contentType === 'text/event-stream' ? answer.text : answer.json;
    if (!validate(body)) throw new Error(`${operationId} ${status} does not match its schema: ${this.ajv.errorsText(validate.errors)}\n${answer.text.slice(0, 500)}`);
    let set = this.seen.get(operationId);
    if (!set) this.seen.set(operationId, (set = new Set()));
    set.add(answer.status);
    return answer;
  }
}
