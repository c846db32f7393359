"""Makers for building the interface template and batches of random interfaces."""

from __future__ import annotations

from dataclasses import dataclass, field

from jobflow import Maker, job

from cryin_flows.analysis.statistics import Stats
from cryin_flows.interfaces.random_fill import RandomFillSettings, RandomInterfaceGenerator
from cryin_flows.interfaces.system import InterfaceSystem
from cryin_flows.interfaces.template import InterfaceTemplate, build_interface_template
from cryin_flows.schemas.interfaces import RandomInterfacesDoc


@dataclass
class InterfaceTemplateMaker(Maker):
    """Build the InterfaceTemplate of an interface system (a preset name or parameters)."""

    name: str = "interface template"
    system: InterfaceSystem | str = "lsc-lco"

    @job
    def make(self) -> InterfaceTemplate:
        """The template: fixed cell, slabs, species order, region bounds."""
        return build_interface_template(self.system)


@dataclass
class RandomInterfacesMaker(Maker):
    """Draw ``n`` random interfaces from a template; structures go to the ``data`` store."""

    name: str = "random interfaces"
    n: int = 1000
    seed: int = 0
    fill: RandomFillSettings = field(default_factory=RandomFillSettings)

    @job(data="structures")
    def make(self, template: InterfaceTemplate, start: int = 0) -> RandomInterfacesDoc:
        """Structures ``start .. start + n - 1`` of the seeded stream, with a summary."""
        generator = RandomInterfaceGenerator(template, self.fill)
        structures = generator.generate(self.n, seed=self.seed, start=start)
        infos = structures.infos
        performed: dict[str, int] = {}
        for key in self.fill.exchanges or {}:
            a, b = key.split("-")
            performed[key] = sum(int(info.get(f"exchanges_{a}_{b}", 0)) for info in infos)
        return RandomInterfacesDoc(
            system=template.system.name,
            template_hash=template.template_hash,
            n_structures=len(structures),
            n_atoms=template.n_atoms,
            composition=template.composition,
            seed=self.seed,
            start_index=start,
            region_thickness=Stats.of(i["region_thickness"] for i in infos),
            min_region_distance=Stats.of(i["min_region_distance"] for i in infos),
            min_distances=generator.min_distances,
            exchanges_limits=self.fill.exchanges,
            exchanges_performed=performed,
            restarts=sum(int(i["restarts"]) for i in infos),
            structures=structures,
        )
