/**
 * What `READ_MODELS=mongodb` is configured by, apart from the driver: every process validates its
 * configuration at start, and one with SQL read models should not load the MongoDB driver to do it.
 */
import { z } from 'zod';

export const mongoConfigSchema = z.object({
  MONGODB_URL: z
    .string()
    .regex(/^mongodb(\+srv)?:\/\/[^\s]+$/, 'must be a mongodb:// or mongodb+srv:// connection string, e.g. mongodb://127.0.0.1:27017/citybrain?replicaSet=rs0'),
});
