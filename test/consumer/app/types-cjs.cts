// The CJS face of every package (`require` condition, .d.cts types) under node16 resolution.
import type { TandemClient } from '@tandem/client';
import { connect } from '@tandem/client';
import { comments } from '@tandem/comments';
import type { Collision } from '@tandem/conflicts';
import type { History } from '@tandem/history';
import { type } from '@tandem/ot';
import type { TandemError } from '@tandem/protocol';
import { attach } from '@tandem/server';
import { healthHandler } from '@tandem/server/express';
import { createStorage } from '@tandem/storage';
import type { StorageConformanceSetup } from '@tandem/storage/testing';

type IsAny<T> = 0 extends 1 & T ? true : false;
export const connectionIsTyped: IsAny<TandemClient['connection']> = false;
export type Used = [Collision, History, StorageConformanceSetup, TandemError];
export const used = [connect, type, attach, healthHandler, createStorage, comments];
