'use strict';
// An engineer's device replicating the `trees` database while an admin changes a scoped
// tree's team: pull as an outsider, join the team and pull again (the same device, its
// checkpoint kept), then leave it, have a new version published, and pull once more.
// args: {url, auth, owner, team_url, member_id, publish_url}
const { local, remote, allDocsMap, replicate, http, main } = require('./lib');

main(async ({ url, auth, owner, team_url, member_id, publish_url }) => {
  const device = local('engineer');
  const server = remote(url, auth);
  const ids = async () => Object.keys(await allDocsMap(device)).sort();

  await replicate(server, device);
  const outside = await ids();

  const joined = await http(team_url, owner, {
    method: 'PATCH',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ members: [member_id] }),
  });
  await replicate(server, device);
  const inside = await ids();

  const left = await http(team_url, owner, {
    method: 'PATCH',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ members: [] }),
  });
  const published = await http(publish_url, owner, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: '{}',
  });
  await replicate(server, device);
  const after = await ids();

  return {
    outside,
    inside,
    after,
    statuses: [joined.status, left.status, published.status],
  };
});
