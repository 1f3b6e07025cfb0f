// sharedb-mongo and sharedb-milestone-mongo ship no types; only what the preset uses is declared.
declare module 'sharedb-mongo' {
  import type ShareDB from 'sharedb';

  type MongoFactory = (callback: (error: Error | null, client?: unknown) => void) => void;
  function ShareDbMongo(options: { mongo: MongoFactory; [option: string]: unknown }): ShareDB.DB;
  export = ShareDbMongo;
}

declare module 'sharedb-milestone-mongo' {
  import type ShareDB from 'sharedb';

  type MongoFactory = (callback: (error: Error | null, client?: unknown) => void) => void;
  class MongoMilestoneDB extends ShareDB.MilestoneDB {
    constructor(options: { mongo: MongoFactory; interval?: number; [option: string]: unknown });
  }
  export = MongoMilestoneDB;
}
