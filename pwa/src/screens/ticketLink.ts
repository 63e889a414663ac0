// The parameters of a ticket's start link (`/start?...`), read by the start screen and by the
// launcher shown in a frame that cannot run the app.

/** The link's parameters. PSAs name the ticket differently: a ConnectWise pod appends the
 * record's `id`, an Autotask insight is configured with its own variable names. */
export function ticketLinkParams(get: (name: string) => string | null) {
  const first = (...names: string[]) => names.map((n) => get(n)?.trim()).find((v) => !!v) || "";
  return {
    ticket: first("ticket", "ticketNumber", "ticket_number", "id", "recid"),
    summary: first("summary", "title", "subject"),
    client: first("client", "company", "companyName", "account"),
    tree: first("tree"),
  };
}
