import { Module } from '@nestjs/common';
import { CatalogueModule } from '../catalogue/catalogue.module';
import { LearningModule } from '../learning/learning.module';
import { HomeController } from './home.controller';

@Module({ imports: [LearningModule, CatalogueModule], controllers: [HomeController] })
export class HomeModule {}
