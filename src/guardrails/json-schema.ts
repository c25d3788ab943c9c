/**
 * JSON-schema conformance of an answer, when the request asked for structured output:
 * `response_format: {type: "json_schema", json_schema: {schema}}` (chat completions) or
 * `text.format: {type: "json_schema", schema}` (Responses). Validated with
 * @cfworker/json-schema, which interprets the schema (no eval / new Function, so it runs on
 * Workers). Pure.
 */
import { Validator } from '@cfworker/json-schema';
import { isObj } from '../providers/json.ts';

/** The schema a request asked its answer to follow, if any. */
export function requestedSchema(body: Record<string, unknown>): object | undefined {
  const chat = body.response_format;
  if (isObj(chat) && chat.type === 'json_schema' && isObj(chat.json_schema)) {
    const schema = chat.json_schema.schema;
    return isObj(schema) ? schema : undefined;
  }
  const text = body.text;
  if (isObj(text) && isObj(text.format) && text.format.type === 'json_schema') {
    const schema = text.format.schema;
    return isObj(schema) ? schema : undefined;
  }
  return undefined;
}

/** Whether `output` (the answer's text) is JSON that conforms to `schema`. */
export function conforms(schema: object, output: string): boolean {
  let value: unknown;
  try {
    value = JSON.parse(output);
  } catch {
    return false;
  }
  return new Validator(schema as never, '2020-12', false).validate(value).valid;
}
