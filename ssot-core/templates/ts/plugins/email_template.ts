// The `{{kind}}` message of the email plugin. ssot wrote this file once: it is yours, and ssot
// never overwrites it once you change it. `row` holds every field of the written row (hidden
// ones too): put in the message only what its recipient may read.

import type { Data } from "../../plugin.js";
import type { Event, Message } from "../email.js";

export function render(row: Data, event: Event): Message {
  void row;
  return {
    subject: `{{kind}}: ${event}`,
    text: `This is the {{kind}} message, sent because a row was ${event}.\n`,
  };
}
