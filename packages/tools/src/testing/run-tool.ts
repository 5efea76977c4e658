import type { AnyShape, ToolContext, ToolDefinition, ToolResult } from "@capi-mcp/core";

/** Calls a tool as the pipeline does: arguments parsed by its schema (defaults applied), then the handler. */
export async function runTool<Shape extends AnyShape>(
  tool: ToolDefinition<Shape>,
  argumentsValue: unknown,
  context: ToolContext,
): Promise<ToolResult> {
  return tool.handler(tool.input.parse(argumentsValue), context);
}
