/** Prompt templates: schemas (./schema.ts), pure compile/check/render (./render.ts), the Redis
 * store (./store.ts), and rendering a request's `prompt` (./resolve.ts). */
export { compileVersion, missingVariables, renderVersion, versionProblem } from './render.ts';
export {
  type RenderedPrompt,
  renderedChatMessages,
  renderPrompt,
  TEMPLATE_HEADER,
} from './resolve.ts';
export {
  createTemplateSchema,
  type PromptReference,
  promptReferenceSchema,
  setProductionSchema,
  type TemplateRecord,
  type TemplateVersion,
  type TemplateVersionInput,
  templateVersionInputSchema,
} from './schema.ts';
export { TemplateStore } from './store.ts';
