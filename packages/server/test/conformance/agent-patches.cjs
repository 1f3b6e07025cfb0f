/**
 * ShareDB's own client suites (shipped in the sharedb package) against backends carrying Tandem's
 * patches of ShareDB (src/sharedb/): subscription streams, ordered delivery, submit replies and the
 * agent's fan-out fast path. Every Backend these suites create is patched on its first `listen`,
 * and the fast path hands ops to the agent's stream as ShareDB's own `_sendOp` would. The run ends
 * by checking that the fast path was taken: a suite that passed through ShareDB's own path would
 * prove nothing. Runs under mocha (`pnpm run test:conformance`): the suites rely on mocha's `this`.
 */
require('sharedb/test/setup'); // sinon-chai, as ShareDB's own runs have it
const Backend = require('sharedb/lib/backend');
const { expect } = require('chai');
const { installFastOpDelivery, installSubmitReplies } = require('../../src/sharedb/agent.ts');
const { orderPubSub, reportSubscribeVersions } = require('../../src/sharedb/ordering.ts');
const { installSubscriptionStreams } = require('../../src/sharedb/subscription-stream.ts');
const { OrderedDelivery } = require('../../src/pubsub/ordered-delivery.ts');
const { opMessage } = require('../../src/transport/frames.ts');
const BasicQueryableMemoryDB = require('sharedb/test/BasicQueryableMemoryDB');

const quiet = () => {};
const logger = { debug: quiet, info: quiet, warn: quiet, error: quiet };
let fastDeliveries = 0;

const patched = new WeakSet();
const listen = Backend.prototype.listen;
Backend.prototype.listen = function (stream, request) {
  if (!patched.has(this)) {
    patched.add(this);
    installSubscriptionStreams(this.pubsub);
    const db = this.db;
    const readOps = (collection, id, from, to) =>
      new Promise((resolve, reject) =>
        db.getOps(collection, id, from, to, null, (error, ops) =>
          error ? reject(error) : resolve((ops || []).map((op) => ({ ...op, c: collection, d: id }))),
        ),
      );
    const delivery = new OrderedDelivery(this.pubsub, readOps, logger);
    orderPubSub(this.pubsub, delivery);
    reportSubscribeVersions(this, delivery);
    installSubmitReplies(this);
  }
  const agent = listen.call(this, stream, request);
  // What Tandem's Connection does with an op on the fast path, minus encoding: hand the message
  // ShareDB's `_sendOp` would have built to the agent's stream.
  stream.connection = {
    deliverOp(collection, id, op) {
      fastDeliveries++;
      stream.write(opMessage(collection, id, op, op.src));
    },
  };
  installFastOpDelivery(agent);
  return agent;
};

// ShareDB's own mapping for BasicQueryableMemoryDB (sharedb/test/db-memory.js).
function getQuery(options) {
  return { filter: options.query, sort: options.sort };
}

describe('ShareDB client suites through Tandem’s patches', () => {
  beforeEach(function () {
    this.backend = new Backend({ db: new BasicQueryableMemoryDB(), presence: true });
  });
  afterEach(function (done) {
    this.backend.close(done);
  });

  require('sharedb/test/client/submit')();
  require('sharedb/test/client/submit-json1')();
  require('sharedb/test/client/subscribe')();
  require('sharedb/test/client/query-subscribe')({ getQuery });
  require('sharedb/test/client/query')({ getQuery });
});

describe('ShareDB presence suites through Tandem’s patches', () => {
  require('sharedb/test/client/presence/doc-presence');
  require('sharedb/test/client/presence/presence');
});

// Over the whole run (the client suites' subscriptions and the presence suites' docs): 42 ops.
after(() => {
  expect(fastDeliveries, 'ops delivered by the fast path').to.be.greaterThan(20);
});
