// The client's tests run against a real server: the same helpers as the server's own tests.
export { client, until } from '../../server/test/helpers';
