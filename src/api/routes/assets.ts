/** Asset routes: keyset-paginated list, get by id or token address, create. */
import type { FastifyInstance } from 'fastify';
import type { NewAsset } from '../../storage/contract/database.js';
import type { AppContext } from '../context.js';
import { notFound } from '../errors.js';
import { pageOptions } from '../paging.js';
import { field, object, pageQuery, params, type PageQuery } from '../schemas.js';
import { assetJson, pageJson } from '../serialize.js';
import { assetSchema, pageOf, responses } from '../response-schemas.js';

const tags = ['assets'];

const newAssetBody = object(
  {
    assetId: field.key,
    chainId: field.chainId,
    contractAddress: field.address,
    tokenAddress: field.address,
    metadata: field.document,
    metadataHash: field.hash,
    blockNumber: field.blockNumber,
    transactionHash: field.hash,
  },
  ['assetId', 'chainId', 'contractAddress', 'tokenAddress', 'metadata', 'metadataHash', 'transactionHash'],
);

/** Registers the asset routes. */
export function registerAssetRoutes(app: FastifyInstance, { db }: AppContext): void {
  app.get<{ Querystring: PageQuery }>('/api/assets', { schema: { tags, summary: 'List assets (keyset-paginated)', querystring: object(pageQuery), response: responses({ 200: pageOf(assetSchema) }) } }, async (request) => {
    return pageJson(await db.getAssetsPage(pageOptions(request.query)), assetJson);
  });

  app.get<{ Params: { tokenAddress: string } }>(
    '/api/assets/by-token/:tokenAddress',
    { schema: { tags, summary: 'Get an asset by its token address', params: params({ tokenAddress: field.address }), response: responses({ 200: assetSchema }) } },
    async (request) => {
      const asset = await db.getAssetByTokenAddress(request.params.tokenAddress);
      if (asset === null) throw notFound('asset', { tokenAddress: request.params.tokenAddress });
      return assetJson(asset);
    },
  );

  app.get<{ Params: { assetId: string } }>('/api/assets/:assetId', { schema: { tags, summary: 'Get an asset', params: params({ assetId: field.key }), response: responses({ 200: assetSchema }) } }, async (request) => {
    const asset = await db.getAsset(request.params.assetId);
    if (asset === null) throw notFound('asset', { assetId: request.params.assetId });
    return assetJson(asset);
  });

  app.post<{ Body: Omit<NewAsset, 'blockNumber'> & { blockNumber?: number } }>(
    '/api/assets',
    { schema: { tags, summary: 'Register an asset', body: newAssetBody, response: responses({ 201: assetSchema }) } },
    async (request, reply) => {
      const asset = await db.saveAsset({ blockNumber: 0, ...request.body });
      return reply.code(201).header('location', `/api/assets/${encodeURIComponent(asset.assetId)}`).send(assetJson(asset));
    },
  );
}
