// Round trips of the AG-UI TypeScript client against the channel: `node checks.mjs NAME URL`.
// Prints one JSON object: what the client ended up with. The Python tests assert on it.
import { HttpAgent, runHttpRequest, transformHttpEventStream } from "@ag-ui/client";

const [name, url] = process.argv.slice(2);

// An agent that can also follow a run already going on: connectAgent() after a reload.
class ReconnectingAgent extends HttpAgent {
  connect() {
    return transformHttpEventStream(
      runHttpRequest(() =>
        this.fetch(`${this.url}/runs/${encodeURIComponent(this.followRunId)}`, {
          headers: { Accept: "text/event-stream" },
        }),
      ),
    );
  }
}

function user(id, content) {
  return { id, role: "user", content };
}

function lastAssistant(agent) {
  return [...agent.messages].reverse().find((m) => m.role === "assistant" && m.content)?.content;
}

function recorder() {
  const types = [];
  return { types, subscriber: { onEvent: ({ event }) => void types.push(event.type) } };
}

const checks = {
  async turns() {
    const agent = new HttpAgent({ url, threadId: "ts-turns" });
    const first = recorder();
    agent.addMessage(user("u1", "hello"));
    await agent.runAgent({}, first.subscriber);
    const afterFirst = lastAssistant(agent);
    agent.addMessage(user("u2", "again"));
    await agent.runAgent();
    return { types: first.types, first: afterFirst, second: lastAssistant(agent), roles: agent.messages.map((m) => m.role) };
  },

  async tools() {
    const tools = [{ name: "pick_color", description: "Ask for a color.", parameters: { type: "object", properties: {} } }];
    const agent = new HttpAgent({ url, threadId: "ts-tools" });
    let pending = [];
    agent.addMessage(user("u1", "pick_color please"));
    await agent.runAgent({ tools }, { onRunFinishedEvent: (params) => void (pending = params.pendingToolCallIds ?? []) });
    const call = agent.messages.find((m) => m.role === "assistant" && m.toolCalls?.length)?.toolCalls[0];
    agent.addMessage({ id: "t1", role: "tool", toolCallId: call.id, content: "green" });
    await agent.runAgent({ tools });
    return { pending, call: call.function.name, reply: lastAssistant(agent) };
  },

  async interrupt() {
    const agent = new HttpAgent({ url, threadId: "ts-review" });
    agent.addMessage(user("u1", "essay"));
    await agent.runAgent();
    const interrupts = agent.pendingInterrupts.map((i) => ({ id: i.id, reason: i.reason, metadata: i.metadata }));
    const resume = interrupts.map((i) => ({ interruptId: i.id, status: "resolved", payload: true }));
    await agent.runAgent({ resume });
    return { interrupts, reply: lastAssistant(agent), pendingAfter: agent.pendingInterrupts.length };
  },

  async reconnect() {
    const leaving = new HttpAgent({ url, threadId: "ts-reconnect" });
    leaving.addMessage(user("u1", process.argv[4]));
    let seen = 0;
    const runId = "ts-run-1";
    await leaving
      .runAgent(
        { runId },
        {
          onTextMessageContentEvent: () => {
            seen += 1;
            if (seen === 3) leaving.abortRun(); // the page goes away mid-reply
          },
        },
      )
      .catch(() => {});
    const partial = lastAssistant(leaving) ?? "";
    const reloaded = new ReconnectingAgent({ url, threadId: "ts-reconnect" });
    reloaded.followRunId = runId;
    const types = recorder();
    await reloaded.connectAgent({}, types.subscriber);
    return { partial, complete: lastAssistant(reloaded), types: types.types, roles: reloaded.messages.map((m) => m.role) };
  },

  async failure() {
    const agent = new HttpAgent({ url, threadId: "ts-failure" });
    agent.addMessage(user("u1", "fail please"));
    let error = null;
    await agent.runAgent({}, { onRunErrorEvent: ({ event }) => void (error = { message: event.message, code: event.code }) }).catch(() => {});
    return { error };
  },

  async refused() {
    const agent = new HttpAgent({ url, threadId: "ts-refused" });
    agent.addMessage({ id: "u1", role: "user", content: [{ type: "image", source: { type: "data", value: "%%", mimeType: "image/png" } }] });
    try {
      await agent.runAgent();
      return { status: null };
    } catch (error) {
      return { status: error.status ?? null, payload: error.payload ?? null };
    }
  },
};

const result = await checks[name]();
process.stdout.write(JSON.stringify(result));
