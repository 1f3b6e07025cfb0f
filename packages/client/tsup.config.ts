import { defineConfig } from 'tsup';
import { preset } from '../../tsup.preset';
import browser from './tsup.browser.config';

export default defineConfig([preset(), browser as never]);
